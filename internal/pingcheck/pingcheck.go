// Package pingcheck is `pingauthz ping check`: a live test of the configured
// Ping provider from an operator's terminal. It checks discovery, the
// issuer, the keys, client authentication, PKCE and userinfo, and, with a
// login in a browser, shows the verified claims, the identity the relying
// party extracts and the decision the policies make on it.
//
// It uses the relying party of plugin/ping, so a check passes exactly when
// a server's login would get past that step. It never prints a token, a
// signature, a code or the client secret, and never creates a user or a
// session: the decision is evaluated, not applied.
package pingcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/plugin/ping"
)

// Names of the checks, stable for scripts reading --json.
const (
	CheckIssuer            = "issuer"
	CheckDiscovery         = "discovery"
	CheckJWKS              = "jwks"
	CheckTokenAuthMethod   = "token_auth_method"
	CheckClientCredentials = "client_credentials"
	CheckPKCE              = "pkce"
	CheckUserinfo          = "userinfo"
	CheckLogin             = "login"
	CheckGroupsClaim       = "groups_claim"
	CheckDecision          = "decision"
)

// Check is the outcome of one check: pass or fail, with a sentence that
// says what was found and, on failure, what to change.
type Check struct {
	Name     string `json:"name"`
	OK       bool   `json:"ok"`
	Sentence string `json:"sentence"`
}

func pass(name, format string, args ...any) Check {
	return Check{Name: name, OK: true, Sentence: fmt.Sprintf(format, args...)}
}

func fail(name, format string, args ...any) Check {
	return Check{Name: name, OK: false, Sentence: fmt.Sprintf(format, args...)}
}

// Options configure New.
type Options struct {
	Config *config.Config
	// HTTPClient makes every call to the provider; nil means a client
	// that follows no redirect.
	HTTPClient *http.Client
	// Timeout bounds each call to the provider; zero means
	// ping.DefaultExchangeTimeout.
	Timeout time.Duration
	// Logger gets the relying party's log; nil discards it.
	Logger hclog.Logger
}

// Checker runs the checks of one configuration.
type Checker struct {
	cfg     *config.Config
	rp      *ping.RelyingParty
	hc      *http.Client
	timeout time.Duration
	// meta is the relying party's view of the provider once discovery
	// succeeded; doc is the discovery document as served (nil when none).
	meta   *ping.Metadata
	doc    map[string]any
	docURL string
}

// New validates the configuration for the relying party. It does not
// contact the provider.
func New(ctx context.Context, opts Options) (*Checker, error) {
	if opts.Config == nil {
		return nil, errors.New("pingcheck: Options.Config is nil")
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = ping.DefaultExchangeTimeout
	}
	rp, err := ping.New(ctx, ping.Options{Config: opts.Config, HTTPClient: hc, Logger: opts.Logger, ExchangeTimeout: timeout})
	if err != nil {
		return nil, err
	}
	return &Checker{cfg: opts.Config, rp: rp, hc: hc, timeout: timeout}, nil
}

// Report is everything a run found.
type Report struct {
	// OK is true when every check passed.
	OK       bool     `json:"ok"`
	Provider Provider `json:"provider"`
	Checks   []Check  `json:"checks"`
	// Login is set when a login was attempted.
	Login *Login `json:"login,omitempty"`
}

// Provider is the provider as the relying party resolved it.
type Provider struct {
	Issuer          string         `json:"issuer"`
	DiscoveryURL    string         `json:"discovery_url"`
	AuthorizeURL    string         `json:"authorize_url"`
	TokenURL        string         `json:"token_url"`
	JWKSURL         string         `json:"jwks_url"`
	UserinfoURL     string         `json:"userinfo_url"`
	TokenAuthMethod string         `json:"token_auth_method"`
	Keys            []ping.KeyInfo `json:"keys"`
}

// Finish sets OK from the checks.
func (r *Report) Finish() {
	r.OK = len(r.Checks) > 0
	for _, c := range r.Checks {
		r.OK = r.OK && c.OK
	}
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// getJSON fetches u (no credentials) and decodes a JSON object; status is
// the HTTP status, 0 when no answer came.
func (c *Checker) getJSON(ctx context.Context, u string) (map[string]any, int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var doc map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return nil, resp.StatusCode, fmt.Errorf("not a JSON object: %v", err)
	}
	return doc, resp.StatusCode, nil
}

// strings returns a discovery field that is a list of strings.
func docStrings(doc map[string]any, key string) []string {
	list, _ := doc[key].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func docString(doc map[string]any, key string) string {
	s, _ := doc[key].(string)
	return s
}
