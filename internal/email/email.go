// Package email holds the one rule pingauthz compares email addresses and
// email domains by: the relying party applies it to identity emails, the
// store to whitelist entries, and the policy engine to its whitelist index.
// The default Rego policy applies the same rule (package clearml.email,
// policies/clearml/email/email.rego, with the same Pattern), so a decision
// gives the same answer whether its index was built in Go or computed in
// Rego.
//
// Letter case is folded for ASCII letters only: strings.ToLower would turn
// U+212A (KELVIN SIGN) into "k" and U+0130 into "i", and let a look-alike
// address match a whitelist entry. A Unicode domain is converted to its
// A-label (punycode) with the strict IDNA2008 registration profile, which
// maps nothing. An address that is still not ASCII, or that is not exactly
// one plain addr-spec (no display name, quotes, comments, spaces or second
// "@"), is not valid and never matches.
//
// The package does not check that a domain exists or receives mail, and does
// not enforce RFC 5321 length limits; the relying party caps claim lengths.
package email

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Pattern matches a valid address: an RFC 5322 dot-atom local part, "@", and
// a domain of dot-separated labels of ASCII letters, digits and hyphens (no
// hyphen first or last in a label, at most 63 characters each), the domain
// in A-label form. \x60 is the backquote. The Rego rule uses the same text.
const Pattern = `^[A-Za-z0-9!#$%&'*+/=?^_\x60{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_\x60{|}~-]+)*@` + domainRE + `$`

// DomainPattern matches a valid domain: the domain part of Pattern.
const DomainPattern = `^` + domainRE + `$`

const (
	labelRE  = `[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?`
	domainRE = labelRE + `(?:\.` + labelRE + `)*`
)

var (
	addressRx = regexp.MustCompile(Pattern)
	domainRx  = regexp.MustCompile(DomainPattern)
)

// Valid reports whether addr, exactly as given, is one plain ASCII
// addr-spec that Pattern matches. Every valid address is also accepted by
// net/mail.ParseAddress, as itself and without a display name.
func Valid(addr string) bool { return addressRx.MatchString(addr) }

// ValidDomain reports whether domain, exactly as given, matches
// DomainPattern.
func ValidDomain(domain string) bool { return domainRx.MatchString(domain) }

// Key returns the comparison key of a valid address: addr with ASCII letters
// lower-cased. ok is false when addr is not Valid; such an address matches
// nothing. Key does not convert a Unicode domain; Normalize does, before
// addresses are stored or decided on.
func Key(addr string) (key string, ok bool) {
	if !Valid(addr) {
		return "", false
	}
	return asciiLower(addr), true
}

// DomainKey is Key for a whitelist domain.
func DomainKey(domain string) (key string, ok bool) {
	if !ValidDomain(domain) {
		return "", false
	}
	return asciiLower(domain), true
}

// Normalize returns the stored and compared form of an address: ASCII
// letters lower-cased and, when addr has exactly one "@", a non-ASCII domain
// converted to its A-label. It never fails: what cannot be converted is kept
// as it is (lower-cased), and Valid rejects it.
func Normalize(addr string) string {
	lowered := asciiLower(addr)
	local, domain, ok := strings.Cut(lowered, "@")
	if !ok || strings.Contains(domain, "@") {
		return lowered
	}
	return local + "@" + toASCII(domain)
}

// NormalizeDomain is Normalize for a domain alone.
func NormalizeDomain(domain string) string { return toASCII(asciiLower(domain)) }

// Parse returns Normalize(addr) when that is valid, or an error that says
// why it is not, for messages to whoever typed the address.
func Parse(addr string) (string, error) {
	n := Normalize(addr)
	if Valid(n) {
		return n, nil
	}
	return "", &InvalidError{Value: addr, Reason: addressProblem(n)}
}

// ParseDomain is Parse for a domain alone.
func ParseDomain(domain string) (string, error) {
	n := NormalizeDomain(domain)
	if ValidDomain(n) {
		return n, nil
	}
	return "", &InvalidError{Value: domain, Domain: true, Reason: domainProblem(n)}
}

// InvalidError is an address or domain that Parse or ParseDomain refused.
type InvalidError struct {
	Value  string // as given
	Domain bool   // a domain, not an address
	Reason string
}

func (e *InvalidError) Error() string {
	what := "address"
	if e.Domain {
		what = "domain"
	}
	return fmt.Sprintf("email: %s %q is not valid: %s", what, e.Value, e.Reason)
}

// addressProblem explains why the normalized address n is not valid.
func addressProblem(n string) string {
	switch {
	case strings.TrimSpace(n) == "":
		return "it is empty"
	case strings.ContainsAny(n, "<>"):
		return "write the address alone, without a display name or angle brackets"
	case strings.ContainsAny(n, " \t\r\n"):
		return "it contains white space"
	case !strings.Contains(n, "@"):
		return `it has no "@"`
	case strings.Count(n, "@") > 1:
		return `it has more than one "@"`
	}
	local, domain, _ := strings.Cut(n, "@")
	switch {
	case !isASCII(local):
		return `the part before "@" is not ASCII`
	case !ValidDomain(domain):
		return "its domain is not valid: " + domainProblem(domain)
	case strings.HasPrefix(local, `"`):
		return "quoted local parts are not accepted"
	}
	return `the part before "@" must be letters, digits and !#$%&'*+/=?^_` + "`" + `{|}~- with single dots between them`
}

// domainProblem explains why the normalized domain n is not valid.
func domainProblem(n string) string {
	switch {
	case n == "":
		return "it is empty"
	case strings.Contains(n, "@"):
		return `it contains "@"; write the domain alone`
	case !isASCII(n):
		return "it is not ASCII and has no A-label (IDNA2008) form"
	}
	return "want dot-separated labels of letters, digits and hyphens, none starting or ending with a hyphen"
}

// toASCII converts a lower-cased domain to its A-label form when it is not
// ASCII, and keeps it otherwise (also when the conversion fails).
func toASCII(domain string) string {
	if isASCII(domain) || !utf8.ValidString(domain) {
		return domain
	}
	a, err := idna.Registration.ToASCII(domain)
	if err != nil {
		return domain
	}
	return a
}

// asciiLower lower-cases the ASCII letters of s and keeps every other byte.
func asciiLower(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return 'A' <= r && r <= 'Z' })
	if i < 0 {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
