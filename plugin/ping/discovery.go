package ping

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pingauthz/pingauthz/plugin"
)

// discoveryRetry is the least time between two failed discovery attempts.
const discoveryRetry = 5 * time.Second

// maxBody bounds every response body read from the provider.
const maxBody = 1 << 20

// asymmetricAlgs are always accepted for ID tokens; the key type must match.
var asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// hmacAlgs are accepted only when the provider advertises them; the key is
// the client secret.
var hmacAlgs = []string{"HS256", "HS384", "HS512"}

// Metadata is the provider configuration the relying party resolved from
// the environment and, when trusted, the discovery document.
type Metadata struct {
	Issuer       string
	AuthorizeURL string
	TokenURL     string
	JWKSURL      string
	// UserinfoURL is empty when neither configuration nor discovery gives one.
	UserinfoURL string
	// TokenAuthMethod is client_secret_basic or client_secret_post.
	TokenAuthMethod string
	// SigningAlgs are the ID token algorithms accepted.
	SigningAlgs []string
	// IssParameterSupported: the provider promises iss on callbacks (RFC 9207).
	IssParameterSupported bool
	// DiscoveryURL is the document read; Discovered says whether it was
	// found and trusted.
	DiscoveryURL string
	Discovered   bool
}

// discoveryDoc holds the fields of an OpenID provider configuration used here.
type discoveryDoc struct {
	Issuer                       string   `json:"issuer"`
	AuthorizationEndpoint        string   `json:"authorization_endpoint"`
	TokenEndpoint                string   `json:"token_endpoint"`
	UserinfoEndpoint             string   `json:"userinfo_endpoint"`
	JWKSURI                      string   `json:"jwks_uri"`
	TokenEndpointAuthMethods     []string `json:"token_endpoint_auth_methods_supported"`
	IDTokenSigningAlgs           []string `json:"id_token_signing_alg_values_supported"`
	AuthorizationResponseIssSupp bool     `json:"authorization_response_iss_parameter_supported"`
}

// provider is resolved metadata with its key set.
type provider struct {
	meta Metadata
	keys *keySet
}

// discoverer resolves the provider once and caches it; failures are
// retried at most every discoveryRetry. One caller resolves at a time, and
// the others wait for it without holding the lock, each within its own
// context.
type discoverer struct {
	rp       *RelyingParty
	mu       sync.Mutex
	prov     *provider
	lastErr  error
	lastTry  time.Time
	resolved chan struct{} // closed when the resolve in flight ends
}

func newDiscoverer(rp *RelyingParty) *discoverer { return &discoverer{rp: rp} }

// Discover resolves the provider metadata now (discovery, trust check,
// configured overrides) and returns it. A *DiscoveryError says what is
// missing. The result is cached for the life of the relying party.
func (rp *RelyingParty) Discover(ctx context.Context) (Metadata, error) {
	p, err := rp.disc.get(ctx)
	if err != nil {
		return Metadata{}, err
	}
	m := p.meta
	m.SigningAlgs = slices.Clone(m.SigningAlgs)
	return m, nil
}

// provider returns the resolved provider or a login *Error.
func (rp *RelyingParty) provider(ctx context.Context) (*provider, error) {
	p, err := rp.disc.get(ctx)
	if err == nil {
		return p, nil
	}
	rp.log.Error("ping: provider metadata unavailable", "error", err)
	var de *DiscoveryError
	if errors.As(err, &de) && de.Transient {
		return nil, newError(plugin.KindUnavailable, "the identity provider could not be reached; try again later", err)
	}
	return nil, newError(plugin.KindInternal, "the Ping login is misconfigured: "+reasonOf(err), err)
}

func reasonOf(err error) string {
	var de *DiscoveryError
	if errors.As(err, &de) {
		return de.Reason
	}
	return err.Error()
}

func (d *discoverer) get(ctx context.Context) (*provider, error) {
	for {
		d.mu.Lock()
		if d.prov != nil {
			d.mu.Unlock()
			return d.prov, nil
		}
		now := d.rp.now()
		if d.lastErr != nil && now.Sub(d.lastTry) < discoveryRetry && now.Sub(d.lastTry) >= 0 {
			err := d.lastErr
			d.mu.Unlock()
			return nil, err
		}
		if wait := d.resolved; wait != nil {
			d.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, &DiscoveryError{Transient: true, Reason: "the login ended while waiting for the discovery document", Err: ctx.Err()}
			}
		}
		done := make(chan struct{})
		d.resolved = done
		d.mu.Unlock()

		start := time.Now()
		p, err := d.resolve(ctx)
		d.mu.Lock()
		d.lastTry, d.resolved = now, nil
		if err != nil {
			d.lastErr = err
		} else {
			d.prov, d.lastErr = p, nil
		}
		d.mu.Unlock()
		close(done)
		if err != nil {
			return nil, err
		}
		d.rp.step("discovery", start, "issuer", p.meta.Issuer, "jwks_url", p.meta.JWKSURL,
			"userinfo_url", p.meta.UserinfoURL, "token_auth_method", p.meta.TokenAuthMethod,
			"signing_algs", p.meta.SigningAlgs, "discovered", p.meta.Discovered)
		return p, nil
	}
}

func (d *discoverer) resolve(ctx context.Context) (*provider, error) {
	rp := d.rp
	cfg := rp.cfg
	base := cfg.Issuer
	if base == "" {
		base = rp.derivedIssuer
	}
	if base == "" {
		return nil, &DiscoveryError{Reason: fmt.Sprintf(
			"cannot derive the issuer from %s %q; set %s and %s",
			EnvName("authorize_url"), cfg.AuthorizeURL, EnvName("issuer"), EnvName("jwks_url"))}
	}
	discURL := strings.TrimRight(base, "/") + "/.well-known/openid-configuration"
	doc, err := rp.fetchDiscovery(ctx, discURL)
	if err == nil {
		err = trustDiscovery(doc, cfg.AuthorizeURL, cfg.AccessTokenURL)
	}
	var de *DiscoveryError
	if errors.As(err, &de) && de.Transient {
		return nil, err
	}
	m := Metadata{
		AuthorizeURL: cfg.AuthorizeURL,
		TokenURL:     cfg.AccessTokenURL,
		DiscoveryURL: discURL,
	}
	if err != nil {
		var missing []string
		if cfg.Issuer == "" {
			missing = append(missing, EnvName("issuer"))
		}
		if cfg.JWKSURL == "" {
			missing = append(missing, EnvName("jwks_url"))
		}
		if len(missing) > 0 {
			return nil, &DiscoveryError{URL: discURL, Reason: "no usable discovery document (" +
				reasonOf(err) + "); set " + strings.Join(missing, " and "), Err: errors.Unwrap(err)}
		}
		rp.log.Warn("ping: no usable discovery document; using the configured issuer and jwks_url", "url", discURL, "error", err)
		doc = &discoveryDoc{}
	} else {
		m.Discovered = true
		if cfg.Issuer != "" && cfg.Issuer != doc.Issuer {
			rp.log.Warn("ping: the configured issuer differs from the discovery document's; the configured one is used",
				"configured", cfg.Issuer, "discovered", doc.Issuer, "variable", EnvName("issuer"))
		}
	}
	m.Issuer = cmp.Or(cfg.Issuer, doc.Issuer)
	m.JWKSURL = cmp.Or(cfg.JWKSURL, doc.JWKSURI)
	m.UserinfoURL = cmp.Or(cfg.UserinfoURL, doc.UserinfoEndpoint)
	m.IssParameterSupported = doc.AuthorizationResponseIssSupp
	m.TokenAuthMethod = cfg.TokenEndpointAuthMethod
	if m.TokenAuthMethod == "" {
		m.TokenAuthMethod = chooseAuthMethod(doc.TokenEndpointAuthMethods)
		if m.Discovered && len(doc.TokenEndpointAuthMethods) > 0 &&
			!slices.Contains(doc.TokenEndpointAuthMethods, m.TokenAuthMethod) {
			rp.log.Warn("ping: the provider advertises neither client_secret_basic nor client_secret_post; using client_secret_basic",
				"advertised", doc.TokenEndpointAuthMethods, "set", EnvName("token_endpoint_auth_method"))
		}
	}
	m.SigningAlgs = slices.Clone(asymmetricAlgs)
	for _, a := range hmacAlgs {
		if slices.Contains(doc.IDTokenSigningAlgs, a) {
			m.SigningAlgs = append(m.SigningAlgs, a)
		}
	}
	if err := checkURL("jwks_url", m.JWKSURL, true); err != nil {
		return nil, &DiscoveryError{URL: discURL, Reason: "jwks_uri " + m.JWKSURL + " is not usable: " + err.Error()}
	}
	if m.UserinfoURL != "" {
		if err := checkURL("userinfo_url", m.UserinfoURL, false); err != nil {
			return nil, &DiscoveryError{URL: discURL, Reason: "userinfo_endpoint " + m.UserinfoURL + " is not usable: " + err.Error()}
		}
	}
	var secret []byte
	if len(m.SigningAlgs) > len(asymmetricAlgs) {
		secret = []byte(cfg.ClientSecret)
	}
	return &provider{meta: m, keys: newKeySet(m.JWKSURL, secret, rp)}, nil
}

// chooseAuthMethod picks the token endpoint authentication from what the
// provider advertises; none advertised means client_secret_basic (the
// OpenID Discovery default).
func chooseAuthMethod(advertised []string) string {
	if len(advertised) == 0 || slices.Contains(advertised, AuthClientSecretBasic) {
		return AuthClientSecretBasic
	}
	if slices.Contains(advertised, AuthClientSecretPost) {
		return AuthClientSecretPost
	}
	return AuthClientSecretBasic
}

// trustDiscovery accepts a document only when its authorization or token
// endpoint is the configured one, and it names an issuer and a jwks_uri.
func trustDiscovery(doc *discoveryDoc, authorizeURL, tokenURL string) error {
	if !sameEndpoint(doc.AuthorizationEndpoint, authorizeURL) && !sameEndpoint(doc.TokenEndpoint, tokenURL) {
		return &DiscoveryError{Reason: fmt.Sprintf(
			"not trusted: its authorization_endpoint %q and token_endpoint %q differ from %s and %s",
			doc.AuthorizationEndpoint, doc.TokenEndpoint, EnvName("authorize_url"), EnvName("access_token_url"))}
	}
	if doc.Issuer == "" {
		return &DiscoveryError{Reason: "the document has no issuer"}
	}
	if doc.JWKSURI == "" {
		return &DiscoveryError{Reason: "the document has no jwks_uri"}
	}
	return nil
}

// fetchDiscovery reads a discovery document. Network failures and 5xx are
// transient; anything else is a missing or malformed document.
func (rp *RelyingParty) fetchDiscovery(ctx context.Context, u string) (*discoveryDoc, error) {
	ctx, cancel := rp.withTimeout(ctx)
	defer cancel()
	body, status, _, err := rp.get(ctx, epDiscovery, u, "")
	if re := redirectError(err); re != nil {
		return nil, &DiscoveryError{URL: u, Reason: re.Message, Err: re.Err}
	}
	if err != nil {
		return nil, &DiscoveryError{URL: u, Transient: true, Reason: "cannot be fetched", Err: err}
	}
	switch {
	case status >= 500 || status == http.StatusTooManyRequests:
		return nil, &DiscoveryError{URL: u, Transient: true, Reason: fmt.Sprintf("the provider answered %d", status)}
	case status != http.StatusOK:
		return nil, &DiscoveryError{URL: u, Reason: fmt.Sprintf("the provider answered %d", status)}
	}
	var doc discoveryDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, &DiscoveryError{URL: u, Reason: "the document is not valid JSON", Err: err}
	}
	return &doc, nil
}
