package pingcheck

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/pingauthz/pingauthz/plugin/ping"
	"github.com/pingauthz/pingauthz/sso"
)

// Login is what a login in the browser showed.
type Login struct {
	// IDTokenClaims are the ID token's verified claims; UserinfoClaims the
	// userinfo endpoint's (null without one). Both are null when the login
	// failed before the claims were verified.
	IDTokenClaims  map[string]any `json:"id_token_claims"`
	UserinfoClaims map[string]any `json:"userinfo_claims"`
	// Identity is what the relying party extracted, without the claims;
	// null when the login failed.
	Identity *Identity `json:"identity"`
	// GroupsClaim says where the groups were read from.
	GroupsClaim GroupsClaim `json:"groups_claim"`
	// Decision is set when the policies were evaluated.
	Decision *Decision `json:"decision,omitempty"`
}

// Identity is sso.Identity without the claims.
type Identity struct {
	Issuer        string   `json:"issuer"`
	Subject       string   `json:"subject"`
	UserID        string   `json:"user_id"`
	Email         string   `json:"email"`
	EmailVerified *bool    `json:"email_verified"`
	Name          string   `json:"name"`
	Groups        []string `json:"groups"`
}

// GroupsClaim is the groups claim as Ping sent it.
type GroupsClaim struct {
	Name string `json:"name"`
	// Source is "id_token", "userinfo", both joined by "+", or "" when absent.
	Source string `json:"source"`
	Value  any    `json:"value"`
	FromDN bool   `json:"from_dn"`
}

// Decision is the policies' decision on the login's identity.
type Decision struct {
	// Directory says what the decision was evaluated against.
	Directory string `json:"directory"`
	// User is the existing ClearML user the identity matched, or null.
	User     *sso.User     `json:"user"`
	Decision *sso.Decision `json:"decision"`
	Reasons  []Reason      `json:"reasons"`
	Revision string        `json:"policy_revision"`
}

// Reason is a reason code with its sentence.
type Reason struct {
	Code     string `json:"code"`
	Sentence string `json:"sentence"`
}

// Begin starts a login for redirectURI and returns the URL to open in a
// browser and the sealed state Login needs.
func (c *Checker) Begin(ctx context.Context, redirectURI string) (authURL, sealedState string, err error) {
	authURL, sealedState, err = c.rp.Begin(ctx, redirectURI, "/")
	if err != nil {
		return "", "", fmt.Errorf("pingcheck: cannot start the login: %w", err)
	}
	return authURL, sealedState, nil
}

// Login finishes the login from the callback's query and returns what it
// showed with the checks login, groups_claim and decision. d evaluates the
// decision; nil skips it.
func (c *Checker) Login(ctx context.Context, redirectURI, sealedState string, query url.Values, d *Decider) (*Login, []Check) {
	done, err := c.rp.CompleteForCheck(ctx, redirectURI, sealedState, query)
	l := &Login{GroupsClaim: GroupsClaim{Name: groupsClaimName(c.cfg.Groups.Claim), FromDN: c.cfg.Groups.FromDN}}
	if done != nil {
		l.IDTokenClaims, l.UserinfoClaims = done.IDTokenClaims, done.UserinfoClaims
		l.GroupsClaim.Source, l.GroupsClaim.Value = groupsSource(l.GroupsClaim.Name, done)
	}
	if err != nil {
		checks := []Check{fail(CheckLogin, "The sign-in failed: %s.", loginFailure(err))}
		if done != nil {
			checks = append(checks, c.checkGroupsClaim(l))
		}
		return l, checks
	}
	id := done.Identity
	l.Identity = &Identity{Issuer: id.Issuer, Subject: id.Subject, UserID: id.UserID, Email: id.Email,
		EmailVerified: id.EmailVerified, Name: id.Name, Groups: id.Groups}
	sources := "the ID token"
	if done.UserinfoClaims != nil {
		sources += " and userinfo"
	}
	checks := []Check{pass(CheckLogin, "Ping signed %s in; the ID token verified (signature, issuer, audience, expiry, nonce) and the identity was read from %s.",
		orDash(id.Email, id.UserID), sources), c.checkGroupsClaim(l)}
	if d != nil {
		dec, check := d.decide(ctx, id)
		l.Decision = dec
		checks = append(checks, check)
	}
	return l, checks
}

// loginFailure renders a relying-party error with its cause.
func loginFailure(err error) string {
	var pe *ping.Error
	if errors.As(err, &pe) {
		if pe.Err != nil {
			return pe.Message + " (" + strings.TrimPrefix(pe.Err.Error(), "ping: ") + ")"
		}
		return pe.Message
	}
	return strings.TrimPrefix(err.Error(), "ping: ")
}

func orDash(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return "-"
}

func groupsClaimName(name string) string {
	if name == "" {
		return "groups"
	}
	return name
}

// groupsSource finds the groups claim in the ID token and in userinfo.
func groupsSource(name string, done *ping.CheckedLogin) (string, any) {
	var sources []string
	var value any
	if v, ok := ping.ClaimValue(done.IDTokenClaims, name); ok && v != nil {
		sources, value = append(sources, "id_token"), v
	}
	if v, ok := ping.ClaimValue(done.UserinfoClaims, name); ok && v != nil {
		sources, value = append(sources, "userinfo"), v
	}
	return strings.Join(sources, "+"), value
}

// dnLike matches a value that looks like an LDAP DN.
var dnLike = regexp.MustCompile(`(?i)^\s*(cn|ou|uid)\s*=[^,]*,`)

// checkGroupsClaim says whether the groups claim was found and read as the
// configuration expects.
func (c *Checker) checkGroupsClaim(l *Login) Check {
	g := l.GroupsClaim
	enabled := c.cfg.Groups.Enabled
	claimVar := ping.EnvName("groups__claim")
	if g.Source == "" {
		if !enabled {
			return pass(CheckGroupsClaim, "Groups are off (%s); Ping sent no %q claim.", ping.EnvName("groups__enabled"), g.Name)
		}
		msg := fmt.Sprintf("The groups claim %q is in neither the ID token nor userinfo, so every login has no groups. Claims sent: %s.",
			g.Name, strings.Join(claimNames(l), ", "))
		if cands := groupCandidates(l); len(cands) > 0 {
			msg += fmt.Sprintf(" Set %s to the claim that holds them (perhaps %s), or map the groups to %q in Ping.", claimVar, strings.Join(cands, " or "), g.Name)
		} else {
			msg += fmt.Sprintf(" Add a groups attribute mapping in Ping, or set %s to the claim that holds them.", claimVar)
		}
		return fail(CheckGroupsClaim, "%s", msg)
	}
	values := claimStrings(g.Value)
	looksDN := len(values) > 0 && slices.ContainsFunc(values, dnLike.MatchString)
	where := strings.ReplaceAll(g.Source, "+", " and ")
	switch {
	case l.Identity == nil:
		return fail(CheckGroupsClaim, "The groups claim %q (from %s) could not be read; see the login check.", g.Name, where)
	case looksDN && !g.FromDN && enabled:
		return fail(CheckGroupsClaim, "The groups claim %q (from %s) holds LDAP DNs such as %q, which never equal a ClearML group name; set %s=true to use each DN's CN.",
			g.Name, where, values[0], ping.EnvName("groups__from_dn"))
	case g.FromDN:
		return pass(CheckGroupsClaim, "The groups claim %q (from %s) holds %d DN(s); their CNs give the groups %s.",
			g.Name, where, len(values), quoteList(l.Identity.Groups))
	}
	return pass(CheckGroupsClaim, "The groups claim %q (from %s) gives the groups %s.", g.Name, where, quoteList(l.Identity.Groups))
}

func quoteList(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// claimStrings returns a claim's string values (one string or a list).
func claimStrings(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// claimNames lists the claims of both sources, sorted.
func claimNames(l *Login) []string {
	all := maps.Clone(l.IDTokenClaims)
	if all == nil {
		all = map[string]any{}
	}
	maps.Copy(all, l.UserinfoClaims)
	return slices.Sorted(maps.Keys(all))
}

// groupCandidates names claims that look like they carry groups: a list of
// strings, or a name mentioning groups or membership.
func groupCandidates(l *Login) []string {
	var out []string
	for _, src := range []map[string]any{l.IDTokenClaims, l.UserinfoClaims} {
		for k, v := range src {
			lk := strings.ToLower(k)
			_, isList := v.([]any)
			if (isList && k != "amr" && k != "aud") || strings.Contains(lk, "group") || strings.Contains(lk, "member") {
				if !slices.Contains(out, k) {
					out = append(out, k)
				}
			}
		}
	}
	slices.Sort(out)
	for i, k := range out {
		out[i] = fmt.Sprintf("%q", k)
	}
	return out
}
