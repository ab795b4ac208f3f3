package rego

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/open-policy-agent/opa/v1/ast"
)

// PolicyError is a policy that did not produce a usable decision: the
// evaluation failed, data.clearml.sso.decision was undefined, or its value
// had the wrong shape. Decide turns it into a deny with sso.ReasonPolicyError.
type PolicyError struct {
	// Revision is the policy set that failed.
	Revision string
	// Detail says what was wrong.
	Detail string
	// Err is the evaluation error, if any.
	Err error
	// extension: Detail is about an extension rule's value.
	extension bool
}

func (e *PolicyError) Error() string {
	msg := "rego: policy error: " + e.Detail
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *PolicyError) Unwrap() error { return e.Err }

// denyDecision is the deny a decision falls back to.
func denyDecision(reasons ...string) *sso.Decision {
	return &sso.Decision{Groups: []string{}, Reasons: reasons}
}

// decisionKeys are the keys of a decision object, all required.
var decisionKeys = []string{"allow", "company", "groups", "message", "reasons", "role", "signup", "sync_groups"}

// decodeDecision checks the shape of a decision value and converts it. A
// deny is normalized to the deny shape with its reasons; groups are sorted
// and deduplicated. The message names the first problem.
func decodeDecision(v ast.Value, in *sso.Input) (*sso.Decision, string) {
	obj, ok := v.(ast.Object)
	if !ok {
		return nil, fmt.Sprintf("decision is %s, not an object", ast.ValueName(v))
	}
	var (
		d       sso.Decision
		msg     string
		seen    uint // bit i: decisionKeys[i] is present
		unknown []string
	)
	obj.Foreach(func(k, val *ast.Term) {
		key, isString := k.Value.(ast.String)
		i := slices.Index(decisionKeys, string(key))
		if !isString || i < 0 {
			unknown = append(unknown, k.String())
			return
		}
		seen |= 1 << i
		if msg != "" {
			return
		}
		switch key {
		case "allow":
			d.Allow, msg = boolField(val.Value, "allow")
		case "signup":
			d.Signup, msg = boolField(val.Value, "signup")
		case "sync_groups":
			d.SyncGroups, msg = boolField(val.Value, "sync_groups")
		case "company":
			company, ok := val.Value.(ast.String)
			if !ok {
				msg = fmt.Sprintf("decision company is %s, not a string", ast.ValueName(val.Value))
			}
			d.Company = string(company)
		case "role":
			d.Role, msg = roleField(val.Value)
		case "groups":
			d.Groups, msg = stringsField(val.Value, "groups")
		case "reasons":
			d.Reasons, msg = stringsField(val.Value, "reasons")
		case "message":
			d.Message, msg = messageField(val.Value)
		}
	})
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, "decision has unknown keys " + strings.Join(unknown, ", ")
	}
	for i, k := range decisionKeys {
		if seen&(1<<i) == 0 {
			return nil, fmt.Sprintf("decision has no %q", k)
		}
	}
	if msg != "" {
		return nil, msg
	}
	if len(d.Reasons) == 0 || slices.Contains(d.Reasons, "") {
		return nil, "decision reasons must be non-empty codes, at least one"
	}
	if slices.Contains(d.Reasons, sso.ReasonPolicyError) {
		return nil, "decision reasons may not contain " + sso.ReasonPolicyError
	}

	if !d.Allow {
		deny := denyDecision(d.Reasons...)
		deny.Message = d.Message
		return deny, ""
	}
	if d.Message != "" {
		return nil, "decision allows with a message; only a deny carries one"
	}
	switch {
	case d.Company == "":
		return nil, "decision allows without a company"
	case d.Signup && in.User != nil:
		return nil, "decision signs up a user who already exists"
	case !d.Signup && in.User == nil:
		return nil, "decision allows a new user without signing up"
	case d.Signup && d.Role == nil:
		return nil, "decision signs up a user without a role"
	case !d.SyncGroups && len(d.Groups) > 0:
		return nil, "decision lists groups with sync_groups false"
	}
	slices.Sort(d.Groups)
	d.Groups = slices.Compact(d.Groups)
	return &d, ""
}

// maxMessage bounds a deny's message, in characters.
const maxMessage = 200

// messageField reads the message of a decision: "" or, for a deny, plain
// text of at most maxMessage characters.
func messageField(v ast.Value) (string, string) {
	s, ok := v.(ast.String)
	if !ok {
		return "", fmt.Sprintf("decision message is %s, not a string", ast.ValueName(v))
	}
	if n := utf8.RuneCountInString(string(s)); n > maxMessage {
		return "", fmt.Sprintf("decision message has %d characters; at most %d", n, maxMessage)
	}
	if strings.IndexFunc(string(s), unicode.IsControl) >= 0 {
		return "", "decision message has a control character; plain text only"
	}
	return string(s), ""
}

func roleField(v ast.Value) (*string, string) {
	switch r := v.(type) {
	case ast.Null:
		return nil, ""
	case ast.String:
		if r == sso.RoleAdmin || r == sso.RoleUser {
			role := string(r)
			return &role, ""
		}
		return nil, fmt.Sprintf("decision role is %s, not \"admin\", \"user\" or null", r)
	default:
		return nil, fmt.Sprintf("decision role is %s, not \"admin\", \"user\" or null", ast.ValueName(r))
	}
}

func boolField(v ast.Value, name string) (bool, string) {
	b, ok := v.(ast.Boolean)
	if !ok {
		return false, fmt.Sprintf("decision %s is %s, not a boolean", name, ast.ValueName(v))
	}
	return bool(b), ""
}

// stringsField accepts an array or a set of strings.
func stringsField(v ast.Value, name string) ([]string, string) {
	var terms []*ast.Term
	switch x := v.(type) {
	case *ast.Array:
		terms = make([]*ast.Term, 0, x.Len())
		x.Foreach(func(t *ast.Term) { terms = append(terms, t) })
	case ast.Set:
		terms = x.Slice()
	default:
		return nil, fmt.Sprintf("decision %s is %s, not a list of strings", name, ast.ValueName(v))
	}
	out := make([]string, 0, len(terms))
	for _, t := range terms {
		s, ok := t.Value.(ast.String)
		if !ok {
			return nil, fmt.Sprintf("decision %s contains %s, not a string", name, ast.ValueName(t.Value))
		}
		out = append(out, string(s))
	}
	return out, ""
}
