package ping

import (
	"context"
	"crypto/rand"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/pingauthz/pingauthz/plugin"
)

// Begin starts a login. It returns the provider's authorize URL (with state,
// nonce and, when configured, a PKCE challenge) and the sealed login state
// the caller keeps until the callback. redirectURI must be an absolute
// http(s) URL; returnTo a local path ("" means "/"). Errors are
// *plugin.LoginError.
func (rp *RelyingParty) Begin(ctx context.Context, redirectURI, returnTo string) (authURL, sealedState string, err error) {
	authURL, sealedState, err = rp.begin(ctx, redirectURI, returnTo)
	if err != nil {
		return "", "", toLoginError(err)
	}
	return authURL, sealedState, nil
}

func (rp *RelyingParty) begin(ctx context.Context, redirectURI, returnTo string) (string, string, error) {
	start := time.Now()
	if err := checkRedirectURI(redirectURI); err != nil {
		return "", "", err
	}
	returnTo, err := checkReturnTo(returnTo)
	if err != nil {
		return "", "", err
	}
	p, err := rp.provider(ctx)
	if err != nil {
		return "", "", err
	}
	st := loginState{
		ID:          rand.Text(),
		State:       rand.Text(),
		Nonce:       rand.Text(),
		ReturnTo:    returnTo,
		RedirectURI: redirectURI,
		IssuedAt:    rp.now().Unix(),
	}
	if rp.cfg.CodeChallenge {
		st.Verifier = oauth2.GenerateVerifier()
	}
	sealed, err := rp.sealer.seal(st)
	if err != nil {
		return "", "", newError(plugin.KindInternal, "cannot start the login", err)
	}
	authURL := rp.authorizeURL(p, st)
	if rp.cfg.Debug {
		rp.step("begin", start, "authorize_url", redactURL(authURL, "state", "nonce", "code_challenge"),
			"pkce", rp.cfg.CodeChallenge, "pkce_method", rp.cfg.CodeChallengeMethod, "return_to", returnTo)
	}
	return authURL, sealed, nil
}

// authorizeURL is the authorization request (OpenID Connect Core 3.1.2.1)
// of the login st: code flow, scopes, state, nonce and, when configured, the
// PKCE challenge.
func (rp *RelyingParty) authorizeURL(p *provider, st loginState) string {
	var q formEncoder
	q.Grow(len(p.meta.AuthorizeURL) + 320)
	q.WriteString(p.meta.AuthorizeURL)
	if strings.Contains(p.meta.AuthorizeURL, "?") {
		q.WriteByte('&')
	} else {
		q.WriteByte('?')
	}
	q.add("client_id", rp.cfg.ClientID)
	if st.Verifier != "" {
		if rp.cfg.CodeChallengeMethod == "plain" {
			q.add("code_challenge", st.Verifier)
			q.add("code_challenge_method", "plain")
		} else {
			q.add("code_challenge", oauth2.S256ChallengeFromVerifier(st.Verifier))
			q.add("code_challenge_method", "S256")
		}
	}
	q.add("nonce", st.Nonce)
	q.add("redirect_uri", st.RedirectURI)
	q.add("response_type", "code")
	q.add("scope", strings.Join(rp.cfg.Scopes, " "))
	q.add("state", st.State)
	return q.String()
}

func checkRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Fragment != "" {
		return newError(plugin.KindInvalidInput, "the redirect URI must be an absolute http(s) URL without fragment", nil)
	}
	return nil
}

// checkReturnTo accepts a local path only, so the login cannot become an
// open redirect.
func checkReturnTo(s string) (string, error) {
	if s == "" {
		return "/", nil
	}
	bad := newError(plugin.KindInvalidInput, "the return path must be a local path starting with /", nil)
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") ||
		strings.ContainsAny(s, "\r\n\t\\") {
		return "", bad
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "", bad
	}
	return s, nil
}

// redactURL replaces the values of the named query parameters.
func redactURL(s string, params ...string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	q := u.Query()
	for _, p := range params {
		if q.Has(p) {
			q.Set(p, "REDACTED")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
