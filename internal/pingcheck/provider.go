package pingcheck

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/pingauthz/pingauthz/plugin/ping"
)

// discoveryPath is appended to an issuer to find its discovery document.
const discoveryPath = "/.well-known/openid-configuration"

// ProviderChecks runs the checks that need no browser, in order: issuer,
// discovery, jwks, token_auth_method, client_credentials, pkce and
// userinfo. redirectURI is sent with the made-up code of
// client_credentials, as a login would send it.
func (c *Checker) ProviderChecks(ctx context.Context, redirectURI string) ([]Check, Provider) {
	checks := []Check{c.checkIssuer(ctx), c.checkDiscovery(ctx)}
	prov := Provider{AuthorizeURL: c.cfg.AuthorizeURL, TokenURL: c.cfg.AccessTokenURL, DiscoveryURL: c.docURL}
	if c.meta == nil {
		for _, name := range []string{CheckJWKS, CheckTokenAuthMethod, CheckClientCredentials, CheckPKCE, CheckUserinfo} {
			checks = append(checks, fail(name, "Not checked: the provider's metadata could not be resolved (see discovery)."))
		}
		return checks, prov
	}
	prov.Issuer, prov.JWKSURL, prov.UserinfoURL = c.meta.Issuer, c.meta.JWKSURL, c.meta.UserinfoURL
	prov.TokenAuthMethod = c.meta.TokenAuthMethod
	jwks, keys := c.checkJWKS(ctx)
	prov.Keys = keys
	checks = append(checks, jwks, c.checkTokenAuthMethod(), c.checkClient(ctx, redirectURI), c.checkPKCE(), c.checkUserinfo(ctx))
	return checks, prov
}

// product names the Ping product an authorize URL belongs to.
func product(authorizeURL string) string {
	u, err := url.Parse(authorizeURL)
	if err != nil {
		return "unknown"
	}
	path := strings.TrimRight(u.Path, "/")
	switch {
	case strings.EqualFold(u.Hostname(), "sso.connect.pingidentity.com"):
		return "PingOne for Enterprise"
	case strings.HasSuffix(path, "/as/authorization.oauth2"):
		return "PingFederate"
	case path == "/as/authorize":
		return "PingOne on a custom domain"
	case strings.HasSuffix(path, "/as/authorize"):
		return "PingOne, environment " + strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/as/authorize")
	}
	return "unknown"
}

// checkIssuer compares the configured issuer with the one authorize_url
// implies; when they differ, the implied issuer's discovery document says
// which one tokens carry.
func (c *Checker) checkIssuer(ctx context.Context) Check {
	derived, derr := ping.DeriveIssuer(c.cfg.AuthorizeURL, c.cfg.ClientID)
	configured := c.cfg.Issuer
	switch {
	case configured == "" && derr != nil:
		return fail(CheckIssuer, "%s %q implies no issuer (%s); set %s (and %s when Ping has no discovery document).",
			ping.EnvName("authorize_url"), c.cfg.AuthorizeURL, strings.TrimPrefix(derr.Error(), "ping: "),
			ping.EnvName("issuer"), ping.EnvName("jwks_url"))
	case configured == "":
		return pass(CheckIssuer, "authorize_url implies the issuer %s (%s).", derived, product(c.cfg.AuthorizeURL))
	case derr != nil:
		return pass(CheckIssuer, "The issuer is set to %s; authorize_url implies none, so the discovery check confirms it.", configured)
	case strings.TrimRight(configured, "/") == derived:
		return pass(CheckIssuer, "The configured issuer %s is the one authorize_url implies (%s).", configured, product(c.cfg.AuthorizeURL))
	}
	doc, _, err := c.getJSON(ctx, derived+discoveryPath)
	if err == nil && docString(doc, "issuer") == derived {
		return fail(CheckIssuer, "%s is %s, but authorize_url implies %s (%s), whose discovery document names %s as the issuer of its tokens; unset %s or set it to %s.",
			ping.EnvName("issuer"), configured, derived, product(c.cfg.AuthorizeURL), derived, ping.EnvName("issuer"), derived)
	}
	return pass(CheckIssuer, "The issuer is set to %s; authorize_url implies %s (%s), which serves no discovery document naming itself, so the configured issuer stands.",
		configured, derived, product(c.cfg.AuthorizeURL))
}

// checkDiscovery reads the discovery document the relying party reads and
// lets the relying party resolve the provider from it.
func (c *Checker) checkDiscovery(ctx context.Context) Check {
	base := strings.TrimRight(c.cfg.Issuer, "/")
	if base == "" {
		base, _ = ping.DeriveIssuer(c.cfg.AuthorizeURL, c.cfg.ClientID)
	}
	if base != "" {
		c.docURL = base + discoveryPath
	}
	var fetchErr error
	if c.docURL != "" {
		c.doc, _, fetchErr = c.getJSON(ctx, c.docURL)
	}
	meta, err := c.rp.Discover(ctx)
	if err != nil {
		var de *ping.DiscoveryError
		reason := strings.TrimPrefix(err.Error(), "ping: ")
		if errors.As(err, &de) {
			reason = de.Reason
			if de.Err != nil {
				reason += " (" + de.Err.Error() + ")"
			}
		}
		c.doc = nil
		return fail(CheckDiscovery, "The relying party cannot resolve the provider from %s: %s.", orNone(c.docURL), reason)
	}
	c.meta = &meta
	if !meta.Discovered {
		c.doc = nil
		why := "it cannot be read"
		if fetchErr != nil {
			why = fetchErr.Error()
		}
		return pass(CheckDiscovery, "No usable discovery document at %s (%s); the configured issuer %s and jwks_url %s are used, and Ping's supported methods cannot be compared.",
			orNone(c.docURL), why, meta.Issuer, meta.JWKSURL)
	}
	if c.doc == nil {
		return fail(CheckDiscovery, "The relying party read %s, but this check could not: %v.", c.docURL, fetchErr)
	}
	docIssuer := docString(c.doc, "issuer")
	if docIssuer != meta.Issuer {
		return fail(CheckDiscovery, "%s names the issuer %s, but %s is %s: the relying party would refuse every ID token; unset %s or set it to %s.",
			c.docURL, docIssuer, ping.EnvName("issuer"), meta.Issuer, ping.EnvName("issuer"), docIssuer)
	}
	s := fmt.Sprintf("%s names the issuer %s and the configured endpoints; keys at %s", c.docURL, docIssuer, meta.JWKSURL)
	if derived, err := ping.DeriveIssuer(c.cfg.AuthorizeURL, c.cfg.ClientID); err == nil && derived != docIssuer {
		s += fmt.Sprintf("; the issuer differs from the %s that authorize_url implies, and the relying party accepts ID tokens from %s", derived, docIssuer)
	}
	return pass(CheckDiscovery, "%s.", s)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func orNone(u string) string {
	if u == "" {
		return "(no discovery URL)"
	}
	return u
}

// checkJWKS reads the keys and requires one that verifies an algorithm
// Ping signs ID tokens with.
func (c *Checker) checkJWKS(ctx context.Context) (Check, []ping.KeyInfo) {
	jwksURL, keys, skipped, err := c.rp.ProviderKeys(ctx)
	if err != nil {
		return fail(CheckJWKS, "The keys cannot be read: %s.", strings.TrimPrefix(err.Error(), "ping: ")), nil
	}
	advertised := docStrings(c.doc, "id_token_signing_alg_values_supported")
	var usable, parts []string
	for _, k := range keys {
		algs := k.Verifies
		if len(advertised) > 0 {
			algs = slices.DeleteFunc(slices.Clone(algs), func(a string) bool { return !slices.Contains(advertised, a) })
		}
		desc := "kid " + strings.TrimSpace(k.ID+" ("+k.Type)
		if k.Algorithm != "" {
			desc += " " + k.Algorithm
		}
		parts = append(parts, desc+")")
		for _, a := range algs {
			if !slices.Contains(usable, a) {
				usable = append(usable, a)
			}
		}
	}
	hmac := slices.ContainsFunc(advertised, func(a string) bool { return strings.HasPrefix(a, "HS") })
	summary := fmt.Sprintf("%s holds %d key%s: %s", jwksURL, len(keys), plural(len(keys)), strings.Join(parts, ", "))
	if len(keys) == 0 {
		summary = fmt.Sprintf("%s holds no usable public key", jwksURL)
	}
	if skipped > 0 {
		summary += fmt.Sprintf("; %d other entr%s skipped (unreadable, or not a public key)", skipped, map[bool]string{true: "y", false: "ies"}[skipped == 1])
	}
	switch {
	case len(usable) > 0:
		return pass(CheckJWKS, "%s; they verify ID tokens signed with %s.", summary, strings.Join(usable, ", ")), keys
	case hmac:
		return pass(CheckJWKS, "%s; Ping advertises HMAC-signed ID tokens, which are verified with the client secret.", summary), keys
	case len(advertised) > 0:
		return fail(CheckJWKS, "%s; none verifies an algorithm Ping advertises for ID tokens (%s).", summary, strings.Join(advertised, ", ")), keys
	}
	return fail(CheckJWKS, "%s; none can verify an ID token.", summary), keys
}

// checkTokenAuthMethod compares the client authentication the relying
// party uses with the methods Ping advertises.
func (c *Checker) checkTokenAuthMethod() Check {
	used := c.meta.TokenAuthMethod
	origin := "chosen from discovery"
	if c.cfg.TokenEndpointAuthMethod != "" {
		origin = "set by " + ping.EnvName("token_endpoint_auth_method")
	}
	advertised := docStrings(c.doc, "token_endpoint_auth_methods_supported")
	switch {
	case len(advertised) == 0:
		return pass(CheckTokenAuthMethod, "Ping does not advertise its client authentication methods; the relying party uses %s (%s).", used, origin)
	case slices.Contains(advertised, used):
		return pass(CheckTokenAuthMethod, "Ping accepts %s; the relying party uses %s (%s).", strings.Join(advertised, ", "), used, origin)
	}
	return fail(CheckTokenAuthMethod, "Ping accepts only %s, but the relying party uses %s (%s) and supports only %s and %s; set %s to one Ping accepts, or change the application's token endpoint authentication method in Ping.",
		strings.Join(advertised, ", "), used, origin, ping.AuthClientSecretBasic, ping.AuthClientSecretPost, ping.EnvName("token_endpoint_auth_method"))
}

// checkClient authenticates at the token endpoint with a made-up code.
func (c *Checker) checkClient(ctx context.Context, redirectURI string) Check {
	probe, err := c.rp.ProbeClient(ctx, redirectURI)
	if err != nil {
		return fail(CheckClientCredentials, "The token endpoint cannot be reached: %s.", strings.TrimPrefix(err.Error(), "ping: "))
	}
	answer := probe.ErrorCode
	if probe.Description != "" {
		answer += ": " + probe.Description
	}
	switch {
	case probe.Authenticated:
		return pass(CheckClientCredentials, "Ping accepted client %s and its secret with %s; a made-up code was refused (invalid_grant), as it should be.",
			c.cfg.ClientID, probe.Method)
	case probe.ErrorCode == "invalid_client" || probe.Status == http.StatusUnauthorized:
		return fail(CheckClientCredentials, "Ping refused the client credentials sent with %s (HTTP %d, %s); check %s, %s and %s.",
			probe.Method, probe.Status, answer, ping.SecureEnvName("client_id"), ping.SecureEnvName("client_secret"), ping.EnvName("token_endpoint_auth_method"))
	case probe.Status == http.StatusOK:
		return fail(CheckClientCredentials, "%s issued tokens for a made-up code; it does not behave as an OAuth token endpoint.", c.cfg.AccessTokenURL)
	}
	return fail(CheckClientCredentials, "%s answered HTTP %d (%s) to a made-up code; an OAuth token endpoint that accepts the client answers invalid_grant.",
		c.cfg.AccessTokenURL, probe.Status, answer)
}

// checkPKCE compares the PKCE settings with the methods Ping advertises.
func (c *Checker) checkPKCE() Check {
	advertised := docStrings(c.doc, "code_challenge_methods_supported")
	method := c.cfg.CodeChallengeMethod
	if method == "" {
		method = "S256"
	}
	if !c.cfg.CodeChallenge {
		if slices.Contains(advertised, "S256") {
			return pass(CheckPKCE, "PKCE is off; Ping supports S256, so set %s=true (Ping applications can require PKCE).", ping.EnvName("code_challenge"))
		}
		return pass(CheckPKCE, "PKCE is off, and Ping does not advertise it.")
	}
	switch {
	case slices.Contains(advertised, method):
		return pass(CheckPKCE, "PKCE is on with %s, which Ping supports.", method)
	case len(advertised) == 0:
		return pass(CheckPKCE, "PKCE is on with %s; Ping does not advertise PKCE methods, so only a login (--login) shows that it accepts them.", method)
	}
	return fail(CheckPKCE, "PKCE is on with %s, but Ping supports only %s; set %s to one of them.",
		method, strings.Join(advertised, ", "), ping.EnvName("code_challenge_method"))
}

// checkUserinfo asks the userinfo endpoint for claims without a token: it
// must answer that a token is needed.
func (c *Checker) checkUserinfo(ctx context.Context) Check {
	u := c.meta.UserinfoURL
	if u == "" {
		return pass(CheckUserinfo, "Ping names no userinfo endpoint; identities are read from the ID token alone.")
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fail(CheckUserinfo, "The userinfo URL %s is not usable: %v.", u, err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fail(CheckUserinfo, "The userinfo endpoint %s cannot be reached: %v.", u, err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusBadRequest:
		return pass(CheckUserinfo, "%s asks for an access token (HTTP %d without one), as a userinfo endpoint does.", u, resp.StatusCode)
	case http.StatusOK:
		return fail(CheckUserinfo, "%s answered 200 without an access token; it does not behave as a userinfo endpoint (check %s).", u, ping.EnvName("userinfo_url"))
	}
	return fail(CheckUserinfo, "%s answered HTTP %d to a request without a token, where a userinfo endpoint answers 401; check %s.",
		u, resp.StatusCode, ping.EnvName("userinfo_url"))
}
