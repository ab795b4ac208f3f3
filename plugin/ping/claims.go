package ping

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/go-ldap/ldap/v3"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/email"
)

// Length caps, in bytes, of the identity's fields. A login whose value is
// longer is refused with a *ClaimError: no identity reaches the host, so
// nothing is stored.
const (
	// MaxUserIDBytes caps the user id and the subject (OpenID Connect
	// Core 2 allows sub 255 ASCII characters).
	MaxUserIDBytes = 256
	// MaxEmailBytes caps the email: RFC 3696 allows 64 bytes before the @
	// and 255 after it.
	MaxEmailBytes = 320
	// MaxNameBytes caps the display name.
	MaxNameBytes = 256
)

// ExtractIdentity builds the identity of a login from verified claims, as
// configured by cfg.Claims and cfg.Groups. A claim name is looked up as a
// literal key first (so "p1.region" or a URI works), then, when it starts
// with "/", as a JSON pointer (RFC 6901). Group errors fail the login only
// when groups are enabled; otherwise groups are best effort. Subject, user
// id, email and name longer than their caps (MaxUserIDBytes, MaxEmailBytes,
// MaxNameBytes) fail the login. It does not check signatures or change the
// subject's case.
func ExtractIdentity(cfg config.Config, issuer, subject string, claims map[string]any) (*sso.Identity, error) {
	def := config.Default()
	userIDClaim := cmp.Or(cfg.Claims.UserID, def.Claims.UserID)
	emailClaim := cmp.Or(cfg.Claims.Email, def.Claims.Email)
	nameClaim := cmp.Or(cfg.Claims.Name, def.Claims.Name)
	groupsClaim := cmp.Or(cfg.Groups.Claim, def.Groups.Claim)

	id := &sso.Identity{Issuer: issuer, Subject: subject, Groups: []string{}, Claims: claims}
	if id.Claims == nil {
		id.Claims = map[string]any{}
	}
	userID, ok, err := stringClaim(claims, userIDClaim)
	if err != nil {
		return nil, err
	}
	if !ok || userID == "" {
		return nil, &ClaimError{Claim: userIDClaim, Reason: "is missing; it holds the user id (" + EnvName("claims__user_id") + ")"}
	}
	id.UserID = userID
	if id.Email, _, err = stringClaim(claims, emailClaim); err != nil {
		return nil, err
	}
	id.Email = aLabelDomain(id.Email)
	if id.EmailVerified, err = boolClaim(claims, "email_verified"); err != nil {
		return nil, err
	}
	var nameFrom string
	if id.Name, nameFrom, err = displayName(claims, nameClaim, emailClaim, id.Email); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		claim, value string
		max          int
	}{
		{"sub", subject, MaxUserIDBytes},
		{userIDClaim, id.UserID, MaxUserIDBytes},
		{emailClaim, id.Email, MaxEmailBytes},
		{nameFrom, id.Name, MaxNameBytes},
	} {
		if len(c.value) > c.max {
			return nil, &ClaimError{Claim: c.claim, Reason: fmt.Sprintf("is %d bytes long, over the cap of %d bytes", len(c.value), c.max)}
		}
	}
	groups, err := extractGroups(claims, groupsClaim, cfg.Groups.FromDN)
	if err != nil && cfg.Groups.Enabled {
		return nil, err
	}
	if err == nil {
		id.Groups = groups
	}
	return id, nil
}

// aLabelDomain converts the Unicode domain of an address to its A-label
// (IDNA2008, as internal/email does for whitelist entries), so the policy and
// the store compare the form the whitelist holds: user@bücher.example becomes
// user@xn--bcher-kva.example. The local part, an ASCII domain, and an address
// that is not ASCII afterwards or has no single "@" are kept as they are; the
// policy denies an address that is not plain ASCII (deny:invalid_email).
func aLabelDomain(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || strings.Contains(domain, "@") || isASCII(domain) {
		return addr
	}
	converted := local + "@" + email.NormalizeDomain(domain)
	if !isASCII(converted) {
		return addr
	}
	return converted
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lookupClaim finds a claim by literal name, then by JSON pointer.
func lookupClaim(claims map[string]any, name string) (any, bool) {
	if v, ok := claims[name]; ok {
		return v, true
	}
	if strings.HasPrefix(name, "/") {
		return jsonPointer(claims, name)
	}
	return nil, false
}

// jsonPointer resolves an RFC 6901 pointer ("/a/b~1c/0") in decoded JSON.
func jsonPointer(doc any, ptr string) (any, bool) {
	if ptr == "" {
		return doc, true
	}
	cur := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) || (len(tok) > 1 && tok[0] == '0') || tok[0] == '+' {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// stringClaim returns a string claim; absent or null is ("", false, nil).
func stringClaim(claims map[string]any, name string) (string, bool, error) {
	v, ok := lookupClaim(claims, name)
	if !ok || v == nil {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", false, &ClaimError{Claim: name, Reason: "is " + jsonType(v) + ", not a string"}
	}
	return s, true, nil
}

// boolClaim accepts a JSON boolean or the strings "true"/"false"; absent or
// null is nil.
func boolClaim(claims map[string]any, name string) (*bool, error) {
	v, ok := claims[name]
	if !ok || v == nil {
		return nil, nil
	}
	switch t := v.(type) {
	case bool:
		return &t, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true":
			b := true
			return &b, nil
		case "false":
			b := false
			return &b, nil
		}
		return nil, &ClaimError{Claim: name, Reason: fmt.Sprintf("is %q, not true or false", sanitize(t, 40))}
	}
	return nil, &ClaimError{Claim: name, Reason: "is " + jsonType(v) + ", not a boolean"}
}

// displayName is the name claim, else preferred_username, else given and
// family name, else the email; from names the claim(s) it came from.
func displayName(claims map[string]any, nameClaim, emailClaim, email string) (name, from string, err error) {
	name, _, err = stringClaim(claims, nameClaim)
	if err != nil {
		return "", "", err
	}
	if name = strings.TrimSpace(name); name != "" {
		return name, nameClaim, nil
	}
	if s, _ := claims["preferred_username"].(string); strings.TrimSpace(s) != "" {
		return strings.TrimSpace(s), "preferred_username", nil
	}
	given, _ := claims["given_name"].(string)
	family, _ := claims["family_name"].(string)
	if full := strings.TrimSpace(strings.TrimSpace(given) + " " + strings.TrimSpace(family)); full != "" {
		return full, "given_name and family_name", nil
	}
	return email, emailClaim, nil
}

// extractGroups reads the groups claim: a string is one group, a list must
// hold strings only, absent or null is none. With fromDN each value must be
// an LDAP DN and its first CN is the group. Duplicates and empty values are
// dropped; order is kept.
func extractGroups(claims map[string]any, name string, fromDN bool) ([]string, error) {
	out := []string{}
	v, ok := lookupClaim(claims, name)
	if !ok || v == nil {
		return out, nil
	}
	var vals []string
	switch t := v.(type) {
	case string:
		vals = []string{t}
	case []any:
		for i, m := range t {
			s, isStr := m.(string)
			if !isStr {
				return nil, &ClaimError{Claim: name, Reason: fmt.Sprintf("member %d is %s; groups must be strings", i, jsonType(m))}
			}
			vals = append(vals, s)
		}
	default:
		return nil, &ClaimError{Claim: name, Reason: "is " + jsonType(v) + "; groups must be a string or a list of strings"}
	}
	seen := map[string]bool{}
	for _, s := range vals {
		if strings.TrimSpace(s) == "" {
			continue
		}
		if fromDN {
			cn, err := firstCN(s)
			if err != nil {
				return nil, &ClaimError{Claim: name, Reason: fmt.Sprintf("value %q is not an LDAP DN with a CN (%s is on): %v",
					sanitize(s, 200), EnvName("groups__from_dn"), err)}
			}
			s = cn
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}

// firstCN returns the value of the first CN attribute of an LDAP DN.
func firstCN(s string) (string, error) {
	dn, err := ldap.ParseDN(s)
	if err != nil {
		return "", err
	}
	for _, rdn := range dn.RDNs {
		for _, a := range rdn.Attributes {
			if strings.EqualFold(a.Type, "cn") && a.Value != "" {
				return a.Value, nil
			}
		}
	}
	return "", fmt.Errorf("no CN attribute")
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64, int, int64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}
