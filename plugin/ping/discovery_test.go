package ping

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/plugin"
)

func TestTrustDiscovery(t *testing.T) {
	const auth, tok = "https://p.example/as/authorize", "https://p.example/as/token"
	for _, tc := range []struct {
		name string
		doc  discoveryDoc
		ok   bool
	}{
		{"both-match", discoveryDoc{Issuer: "i", AuthorizationEndpoint: auth, TokenEndpoint: tok, JWKSURI: "j"}, true},
		{"authorize-matches", discoveryDoc{Issuer: "i", AuthorizationEndpoint: auth, TokenEndpoint: "https://other/t", JWKSURI: "j"}, true},
		{"token-matches", discoveryDoc{Issuer: "i", AuthorizationEndpoint: "https://other/a", TokenEndpoint: tok + "/", JWKSURI: "j"}, true},
		{"neither-matches", discoveryDoc{Issuer: "i", AuthorizationEndpoint: "https://evil/as/authorize", TokenEndpoint: "https://evil/as/token", JWKSURI: "j"}, false},
		{"other-host-same-path", discoveryDoc{Issuer: "i", AuthorizationEndpoint: "https://q.example/as/authorize", TokenEndpoint: "https://q.example/as/token", JWKSURI: "j"}, false},
		{"no-issuer", discoveryDoc{AuthorizationEndpoint: auth, TokenEndpoint: tok, JWKSURI: "j"}, false},
		{"no-jwks", discoveryDoc{Issuer: "i", AuthorizationEndpoint: auth, TokenEndpoint: tok}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := trustDiscovery(&tc.doc, auth, tok)
			if (err == nil) != tc.ok {
				t.Fatalf("trustDiscovery = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestChooseAuthMethod(t *testing.T) {
	for _, tc := range []struct {
		adv  []string
		want string
	}{
		{nil, AuthClientSecretBasic},
		{[]string{"client_secret_post"}, AuthClientSecretPost},
		{[]string{"client_secret_post", "client_secret_basic"}, AuthClientSecretBasic},
		{[]string{"private_key_jwt", "client_secret_post"}, AuthClientSecretPost},
		{[]string{"private_key_jwt"}, AuthClientSecretBasic},
	} {
		if got := chooseAuthMethod(tc.adv); got != tc.want {
			t.Errorf("chooseAuthMethod(%q) = %s, want %s", tc.adv, got, tc.want)
		}
	}
}

// fakeOP serves a discovery document built by doc at <base>/as/.well-known.
// While hold is set, requests wait until it is closed.
type fakeOP struct {
	srv    *httptest.Server
	status atomic.Int32
	hits   atomic.Int32
	doc    func(base string) map[string]any
	hold   atomic.Pointer[chan struct{}]
	held   chan struct{}
}

func newFakeOP(t *testing.T, doc func(base string) map[string]any) *fakeOP {
	f := &fakeOP{doc: doc, held: make(chan struct{}, 16)}
	f.status.Store(http.StatusOK)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/as/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		f.hits.Add(1)
		if hold := f.hold.Load(); hold != nil {
			f.held <- struct{}{}
			select {
			case <-*hold:
			case <-r.Context().Done():
				return
			}
		}
		if s := int(f.status.Load()); s != http.StatusOK {
			w.WriteHeader(s)
			return
		}
		_ = json.NewEncoder(w).Encode(f.doc(f.srv.URL))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func newRPFor(t *testing.T, base string, mutate func(*config.Config), now func() time.Time) *RelyingParty {
	t.Helper()
	cfg := config.Default()
	cfg.AuthorizeURL = base + "/as/authorize"
	cfg.AccessTokenURL = base + "/as/token"
	cfg.ClientID, cfg.ClientSecret = testClientID, testSecret
	if mutate != nil {
		mutate(&cfg)
	}
	return newRP(t, Options{Config: &cfg, Now: now, ExchangeTimeout: 2 * time.Second})
}

func TestDiscoveryCustomDomainIssuer(t *testing.T) {
	op := newFakeOP(t, func(base string) map[string]any {
		return map[string]any{
			"issuer":                                "https://login.example.com/as",
			"authorization_endpoint":                base + "/as/authorize",
			"token_endpoint":                        base + "/as/token",
			"userinfo_endpoint":                     base + "/as/userinfo",
			"jwks_uri":                              base + "/as/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256", "HS256"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_post"},
		}
	})
	rp := newRPFor(t, op.srv.URL, nil, nil)
	m, err := rp.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.Issuer != "https://login.example.com/as" || m.JWKSURL != op.srv.URL+"/as/jwks" ||
		m.UserinfoURL != op.srv.URL+"/as/userinfo" || !m.Discovered || m.TokenAuthMethod != AuthClientSecretPost {
		t.Fatalf("metadata %+v", m)
	}
	if !slices.Contains(m.SigningAlgs, "HS256") || slices.Contains(m.SigningAlgs, "none") {
		t.Errorf("signing algs %q", m.SigningAlgs)
	}
	if _, err := rp.Discover(context.Background()); err != nil || op.hits.Load() != 1 {
		t.Errorf("discovery not cached: %d fetches, %v", op.hits.Load(), err)
	}
}

func TestDiscoveryConfiguredValuesWin(t *testing.T) {
	op := newFakeOP(t, func(base string) map[string]any {
		return map[string]any{
			"issuer": "https://doc-issuer.example/as", "authorization_endpoint": base + "/as/authorize",
			"token_endpoint": base + "/as/token", "userinfo_endpoint": base + "/as/userinfo", "jwks_uri": base + "/as/jwks",
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		}
	})
	rp := newRPFor(t, op.srv.URL, func(c *config.Config) {
		c.Issuer = op.srv.URL + "/as" // discovery is read under the configured issuer
		c.JWKSURL = "https://configured.example/as/jwks"
		c.UserinfoURL = "https://configured.example/as/userinfo"
		c.TokenEndpointAuthMethod = AuthClientSecretPost
	}, nil)
	m, err := rp.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.Issuer != op.srv.URL+"/as" || m.JWKSURL != "https://configured.example/as/jwks" ||
		m.UserinfoURL != "https://configured.example/as/userinfo" || m.TokenAuthMethod != AuthClientSecretPost {
		t.Fatalf("metadata %+v", m)
	}
}

func TestDiscoveryUntrusted(t *testing.T) {
	doc := func(base string) map[string]any {
		return map[string]any{
			"issuer": "https://evil.example/as", "authorization_endpoint": "https://evil.example/as/authorize",
			"token_endpoint": "https://evil.example/as/token", "jwks_uri": "https://evil.example/as/jwks",
			"userinfo_endpoint": "https://evil.example/as/userinfo",
		}
	}
	t.Run("without-configured-issuer", func(t *testing.T) {
		op := newFakeOP(t, doc)
		rp := newRPFor(t, op.srv.URL, nil, nil)
		_, err := rp.Discover(context.Background())
		var de *DiscoveryError
		if !errorsAs(err, &de) || de.Transient || !strings.Contains(de.Reason, "not trusted") ||
			!strings.Contains(de.Reason, EnvName("issuer")) || !strings.Contains(de.Reason, EnvName("jwks_url")) {
			t.Fatalf("Discover error %v", err)
		}
		_, _, err = rp.Begin(context.Background(), testRedirect, "/")
		if le, ok := err.(*plugin.LoginError); !ok || le.Kind != plugin.KindInternal || !strings.Contains(le.Message, EnvName("issuer")) {
			t.Fatalf("Begin error %#v", err)
		}
	})
	t.Run("with-configured-issuer-and-jwks", func(t *testing.T) {
		op := newFakeOP(t, doc)
		rp := newRPFor(t, op.srv.URL, func(c *config.Config) {
			c.Issuer, c.JWKSURL = op.srv.URL+"/as", "https://p.example/as/jwks"
		}, nil)
		m, err := rp.Discover(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if m.Discovered || m.Issuer != op.srv.URL+"/as" || m.UserinfoURL != "" || strings.Contains(m.JWKSURL, "evil") {
			t.Fatalf("untrusted document used: %+v", m)
		}
	})
}

func TestDiscoveryTransient(t *testing.T) {
	op := newFakeOP(t, func(base string) map[string]any {
		return map[string]any{"issuer": base + "/as", "authorization_endpoint": base + "/as/authorize",
			"token_endpoint": base + "/as/token", "jwks_uri": base + "/as/jwks"}
	})
	op.status.Store(http.StatusServiceUnavailable)
	clk := newClock()
	rp := newRPFor(t, op.srv.URL, nil, clk.Now)
	_, _, err := rp.Begin(context.Background(), testRedirect, "/")
	if le, ok := err.(*plugin.LoginError); !ok || le.Kind != plugin.KindUnavailable {
		t.Fatalf("Begin error %#v, want unavailable", err)
	}
	op.status.Store(http.StatusOK)
	if _, err := rp.Discover(context.Background()); err == nil || op.hits.Load() != 1 {
		t.Fatalf("retried before the back-off: %v, %d fetches", err, op.hits.Load())
	}
	clk.Advance(discoveryRetry)
	if _, err := rp.Discover(context.Background()); err != nil {
		t.Fatalf("after the back-off: %v", err)
	}
}

func TestNoDiscovery(t *testing.T) {
	t.Run("issuer-and-jwks-configured", func(t *testing.T) {
		e := newTestEnv(t, envOpts{flavor: pingemu.PingFederate, faults: pingemu.Faults{NoDiscovery: true},
			mutate: func(c *config.Config, emu *pingemu.Server) {
				c.Issuer, c.JWKSURL, c.UserinfoURL = emu.Issuer(), emu.JWKSURL(), emu.UserinfoURL()
			}})
		id, _, err := e.login(t, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if id.Issuer != e.emu.Issuer() || len(id.Groups) != 2 {
			t.Errorf("identity %+v", id)
		}
	})
	t.Run("nothing-configured", func(t *testing.T) {
		e := newTestEnv(t, envOpts{faults: pingemu.Faults{NoDiscovery: true}})
		_, _, err := e.rp.Begin(context.Background(), testRedirect, "/")
		le, ok := err.(*plugin.LoginError)
		if !ok || le.Kind != plugin.KindInternal || !strings.Contains(le.Message, EnvName("issuer")) ||
			!strings.Contains(le.Message, EnvName("jwks_url")) || !strings.Contains(le.Message, "404") {
			t.Fatalf("Begin error %#v", err)
		}
	})
	t.Run("issuer-underivable", func(t *testing.T) {
		rp := newRPFor(t, "https://idp.example.com", func(c *config.Config) {
			c.AuthorizeURL = "https://idp.example.com/oauth2/authorize"
		}, nil)
		_, err := rp.Discover(context.Background())
		if err == nil || !strings.Contains(err.Error(), EnvName("issuer")) || !strings.Contains(err.Error(), EnvName("authorize_url")) {
			t.Fatalf("Discover error %v", err)
		}
	})
}

// TestDiscoveryWaitHoldsNoLock: while one login waits for a hung discovery
// document, another login's deadline still ends its wait, and the first
// login completes once the document arrives.
func TestDiscoveryWaitHoldsNoLock(t *testing.T) {
	op := newFakeOP(t, func(base string) map[string]any {
		return map[string]any{"issuer": base + "/as", "authorization_endpoint": base + "/as/authorize",
			"token_endpoint": base + "/as/token", "jwks_uri": base + "/as/jwks"}
	})
	hold := make(chan struct{})
	op.hold.Store(&hold)
	rp := newRP(t, Options{Config: &cfgT{AuthorizeURL: op.srv.URL + "/as/authorize", AccessTokenURL: op.srv.URL + "/as/token",
		ClientID: testClientID, ClientSecret: testSecret}, ExchangeTimeout: time.Hour})
	first := make(chan error, 1)
	go func() {
		_, err := rp.Discover(context.Background())
		first <- err
	}()
	receive(t, op.held, "the discovery request")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	second := make(chan error, 1)
	go func() {
		_, _, err := rp.Begin(ctx, testRedirect, "/")
		second <- err
	}()
	err := receive(t, second, "the second login to give up")
	if le, ok := err.(*plugin.LoginError); !ok || le.Kind != plugin.KindUnavailable {
		t.Fatalf("Begin with an ended context: %#v, want unavailable", err)
	}
	op.hold.Store(nil)
	close(hold)
	if err := receive(t, first, "the first discovery"); err != nil {
		t.Fatalf("the first discovery: %v", err)
	}
	if n := op.hits.Load(); n != 1 {
		t.Errorf("discovery fetched %d times, want 1", n)
	}
}
