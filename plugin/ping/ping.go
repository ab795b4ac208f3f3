// Package ping is the OpenID Connect relying party for Ping Identity
// (PingOne, PingOne for Enterprise, PingFederate). It builds the authorize
// URL with a sealed login state, exchanges the code, verifies the ID token and
// userinfo, and extracts the identity the decision policies read.
//
// It does not keep sessions, refresh tokens or call any endpoint after the
// login, and it does not remember used login states: Complete returns the
// state's id for the caller to consume once.
package ping

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/internal/config"
)

// Defaults of Options.
const (
	DefaultExchangeTimeout = 10 * time.Second
	DefaultStateTTL        = 10 * time.Minute
	// ClockSkew is the leeway allowed on exp, iat and nbf.
	ClockSkew = time.Minute
)

// Token endpoint client authentication methods.
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
)

// Options configure a RelyingParty.
type Options struct {
	Config *config.Config
	// HTTPClient is used for every call to the provider; nil means a
	// client with connect and header timeouts that keeps enough idle
	// connections for concurrent logins (ExchangeTimeout bounds each call). The relying party uses a copy
	// that follows no redirect; the transport is used as it is.
	HTTPClient *http.Client
	// Logger gets internal detail of failures and, with Config.Debug, every
	// login step. Nil discards.
	Logger hclog.Logger
	// Now is the clock for state expiry and token times; nil is time.Now.
	Now func() time.Time
	// ExchangeTimeout bounds each call to the provider (discovery, token,
	// JWKS, userinfo); zero means DefaultExchangeTimeout.
	ExchangeTimeout time.Duration
	// StateTTL is how long a sealed login state stays valid; zero means
	// DefaultStateTTL.
	StateTTL time.Duration

	// after is the timer of the background JWKS refresh; nil is time.After.
	after func(time.Duration) <-chan time.Time
}

// RelyingParty runs Ping logins. It is safe for concurrent use. Close stops
// its background JWKS refresh.
type RelyingParty struct {
	cfg             config.Config
	hc              *http.Client
	log             hclog.Logger
	now             func() time.Time
	after           func(time.Duration) <-chan time.Time
	exchangeTimeout time.Duration
	derivedIssuer   string
	basicAuth       string // the client_secret_basic Authorization header
	sealer          *sealer
	disc            *discoverer

	bg      context.Context // canceled by Close
	stopBg  context.CancelFunc
	bgMu    sync.Mutex
	closed  bool
	running sync.WaitGroup
}

// New validates the configuration and returns a relying party. It does not
// contact the provider: discovery happens at the first Begin (or Discover)
// and its errors name the variables to set.
func New(ctx context.Context, opts Options) (*RelyingParty, error) {
	_ = ctx // New does no I/O; the background refresh outlives ctx until Close
	if opts.Config == nil {
		return nil, errors.New("ping: Options.Config is nil")
	}
	cfg, derived, err := normalizeConfig(*opts.Config)
	if err != nil {
		return nil, err
	}
	rp := &RelyingParty{
		cfg:             cfg,
		hc:              httpClient(opts.HTTPClient),
		log:             opts.Logger,
		now:             opts.Now,
		after:           opts.after,
		exchangeTimeout: opts.ExchangeTimeout,
		derivedIssuer:   derived,
	}
	rp.bg, rp.stopBg = context.WithCancel(context.Background())
	// RFC 6749 section 2.3.1: both are form-encoded before Basic.
	rp.basicAuth = "Basic " + base64.StdEncoding.EncodeToString(
		[]byte(url.QueryEscape(cfg.ClientID)+":"+url.QueryEscape(cfg.ClientSecret)))
	if rp.log == nil {
		rp.log = hclog.NewNullLogger()
	}
	if rp.now == nil {
		rp.now = time.Now
	}
	if rp.after == nil {
		rp.after = time.After
	}
	if rp.exchangeTimeout <= 0 {
		rp.exchangeTimeout = DefaultExchangeTimeout
	}
	stateTTL := opts.StateTTL
	if stateTTL <= 0 {
		stateTTL = DefaultStateTTL
	}
	rp.sealer, err = newSealer(cfg.ClientSecret, cfg.ClientID, stateTTL, rp.now)
	if err != nil {
		return nil, err
	}
	rp.disc = newDiscoverer(rp)
	return rp, nil
}

// Close stops the background refresh of the provider's keys, canceling a
// fetch in flight, and waits for it to end. Logins that need keys not yet
// cached fail afterwards. Close may be called more than once.
func (rp *RelyingParty) Close() error {
	rp.bgMu.Lock()
	rp.closed = true
	rp.stopBg()
	rp.bgMu.Unlock()
	rp.running.Wait()
	return nil
}

// goBackground runs f in a goroutine that Close stops (through f's stop
// channel) and waits for. It reports false, running nothing, after Close.
func (rp *RelyingParty) goBackground(f func(stop <-chan struct{})) bool {
	rp.bgMu.Lock()
	defer rp.bgMu.Unlock()
	if rp.closed {
		return false
	}
	rp.running.Add(1)
	go func() {
		defer rp.running.Done()
		f(rp.bg.Done())
	}()
	return true
}

// EnvName returns the full name of a variable under the provider's
// services prefix, e.g. EnvName("issuer").
func EnvName(key string) string {
	return config.VarName(key, false)
}

// SecureEnvName returns the full name of a variable under the provider's
// secure prefix, e.g. SecureEnvName("client_secret").
func SecureEnvName(key string) string {
	return config.VarName(key, true)
}

// normalizeConfig checks the values the relying party uses, fills defaults,
// and returns the issuer derived from the authorize URL ("" when the issuer
// is configured or cannot be derived).
func normalizeConfig(c config.Config) (config.Config, string, error) {
	c.AuthorizeURL = strings.TrimSpace(c.AuthorizeURL)
	c.AccessTokenURL = strings.TrimSpace(c.AccessTokenURL)
	c.Issuer = strings.TrimRight(strings.TrimSpace(c.Issuer), "/")
	c.JWKSURL = strings.TrimSpace(c.JWKSURL)
	c.UserinfoURL = strings.TrimSpace(c.UserinfoURL)
	for _, u := range []struct {
		key, val string
		required bool
	}{
		{"authorize_url", c.AuthorizeURL, true},
		{"access_token_url", c.AccessTokenURL, true},
		{"issuer", c.Issuer, false},
		{"jwks_url", c.JWKSURL, false},
		{"userinfo_url", c.UserinfoURL, false},
	} {
		if err := checkURL(u.key, u.val, u.required); err != nil {
			return c, "", err
		}
	}
	if c.ClientID == "" {
		return c, "", &ConfigError{SecureEnvName("client_id"), "is required"}
	}
	if c.ClientSecret == "" {
		return c, "", &ConfigError{SecureEnvName("client_secret"), "is required"}
	}
	switch {
	case c.CodeChallengeMethod == "" || strings.EqualFold(c.CodeChallengeMethod, "S256"):
		c.CodeChallengeMethod = "S256"
	case strings.EqualFold(c.CodeChallengeMethod, "plain"):
		c.CodeChallengeMethod = "plain"
	default:
		return c, "", &ConfigError{EnvName("code_challenge_method"), fmt.Sprintf("is %q; use S256 or plain", c.CodeChallengeMethod)}
	}
	switch c.TokenEndpointAuthMethod {
	case "", AuthClientSecretBasic, AuthClientSecretPost:
	default:
		return c, "", &ConfigError{EnvName("token_endpoint_auth_method"),
			fmt.Sprintf("is %q; use %s or %s", c.TokenEndpointAuthMethod, AuthClientSecretBasic, AuthClientSecretPost)}
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "profile", "email"}
	}
	if !slices.Contains(c.Scopes, "openid") {
		return c, "", &ConfigError{EnvName("scopes"), fmt.Sprintf("is %q and lacks \"openid\"", c.Scopes)}
	}
	derived := ""
	if c.Issuer == "" {
		// An underivable issuer is not fatal yet: a configured issuer is
		// only required when discovery cannot be read.
		derived, _ = DeriveIssuer(c.AuthorizeURL, c.ClientID)
	}
	return c, derived, nil
}

// checkURL requires an absolute URL; plain http only for loopback hosts.
func checkURL(key, val string, required bool) error {
	if val == "" {
		if required {
			return &ConfigError{EnvName(key), "is required"}
		}
		return nil
	}
	u, err := url.Parse(val)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return &ConfigError{EnvName(key), fmt.Sprintf("is %q, not an absolute http(s) URL", val)}
	}
	if u.Scheme == "http" && !config.IsLoopback(u.Hostname()) {
		return &ConfigError{EnvName(key), fmt.Sprintf("is %q; plain http is allowed for loopback hosts only", val)}
	}
	return nil
}

// withTimeout bounds one call to the provider by ExchangeTimeout.
func (rp *RelyingParty) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, rp.exchangeTimeout)
}

// jsonText renders claims for the debug log.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("(unprintable: %v)", err)
	}
	return string(b)
}

// step logs a finished login step with its duration when debug is on.
// Callers on a login's path test rp.cfg.Debug first: building the
// arguments costs allocations.
func (rp *RelyingParty) step(name string, start time.Time, kv ...any) {
	if !rp.cfg.Debug {
		return
	}
	args := append([]any{"step", name, "elapsed", time.Since(start).String()}, kv...)
	rp.log.Info("sso debug", args...)
}
