package decisionlog

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Decision is one evaluated login decision, as the decision log records it.
type Decision struct {
	// ID is the decision_id (NewID); the host's login log line carries it too.
	ID string
	// Path is the decision's path without the data prefix, e.g.
	// "clearml/sso/decision".
	Path string
	// Input is the policy input; InputAST, when set, is the same input as
	// the policy evaluated it and spares a conversion for the mask policy.
	Input    *sso.Input
	InputAST ast.Value
	// Result is the decision, with its reason codes.
	Result *sso.Decision
	// Revision identifies the effective policy set; Bundles maps the name
	// of each active bundle to its manifest revision.
	Revision string
	Bundles  map[string]string
	// Timestamp is when the decision was made.
	Timestamp time.Time
}

// NewID returns a random decision id in the UUID version 4 form OPA uses.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// inputDoc is the input as plain JSON-like Go values, which OPA's mask
// rules edit in place. It shares nothing with in: a mask never changes the
// caller's input.
func inputDoc(in *sso.Input) any {
	id := in.Identity
	identity := map[string]any{
		"issuer":  id.Issuer,
		"subject": id.Subject,
		"user_id": id.UserID,
		"email":   id.Email,
		"name":    id.Name,
		"groups":  stringsDoc(id.Groups),
		"claims":  copyDoc(id.Claims),
	}
	if id.Claims == nil {
		identity["claims"] = map[string]any{}
	}
	if id.EmailVerified != nil {
		identity["email_verified"] = *id.EmailVerified
	}
	var user any
	if u := in.User; u != nil {
		user = map[string]any{
			"id":      u.ID,
			"company": u.Company,
			"role":    u.Role,
			"groups":  stringsDoc(u.Groups),
		}
	}
	return map[string]any{"identity": identity, "user": user}
}

// resultDoc is the decision in the shape of data.clearml.sso.decision.
func resultDoc(d *sso.Decision) any {
	var role any
	if d.Role != nil {
		role = *d.Role
	}
	doc := map[string]any{
		"allow":       d.Allow,
		"signup":      d.Signup,
		"company":     d.Company,
		"role":        role,
		"sync_groups": d.SyncGroups,
		"groups":      stringsDoc(d.Groups),
		"reasons":     stringsDoc(d.Reasons),
	}
	if d.Message != "" {
		doc["message"] = d.Message
	}
	return doc
}

func stringsDoc(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// copyDoc deep-copies the maps and slices of a decoded JSON value.
func copyDoc[T any](v T) T {
	c, _ := copyValue(v).(T)
	return c
}

func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = copyValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyValue(e)
		}
		return out
	}
	return v
}
