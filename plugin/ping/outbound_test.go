package ping

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/plugin"
)

// countingServer answers every request with handler and counts them.
type countingServer struct {
	srv  *httptest.Server
	hits atomic.Int32
}

func newCountingServer(t *testing.T, handler http.HandlerFunc) *countingServer {
	c := &countingServer{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		handler(w, r)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// TestRedirectsRefused points each provider endpoint at a server that
// redirects to a second loopback server: the second must receive nothing,
// with the default client and with the caller's.
func TestRedirectsRefused(t *testing.T) {
	for _, tc := range []struct {
		endpoint string
		variable string // named by the message; "" for discovery
		status   int
		point    func(c *config.Config, emu *pingemu.Server, redirector string)
	}{
		{"discovery", "", http.StatusTemporaryRedirect, func(c *config.Config, _ *pingemu.Server, r string) { c.Issuer = r + "/as" }},
		{"discovery", "", http.StatusFound, func(c *config.Config, _ *pingemu.Server, r string) { c.Issuer = r + "/as" }},
		{"token", "access_token_url", http.StatusTemporaryRedirect, func(c *config.Config, _ *pingemu.Server, r string) { c.AccessTokenURL = r + "/as/token" }},
		{"token", "access_token_url", http.StatusPermanentRedirect, func(c *config.Config, _ *pingemu.Server, r string) { c.AccessTokenURL = r + "/as/token" }},
		{"token", "access_token_url", http.StatusSeeOther, func(c *config.Config, _ *pingemu.Server, r string) { c.AccessTokenURL = r + "/as/token" }},
		{"JWKS", "jwks_url", http.StatusTemporaryRedirect, func(c *config.Config, _ *pingemu.Server, r string) { c.JWKSURL = r + "/as/jwks" }},
		{"JWKS", "jwks_url", http.StatusMovedPermanently, func(c *config.Config, _ *pingemu.Server, r string) { c.JWKSURL = r + "/as/jwks" }},
		{"userinfo", "userinfo_url", http.StatusTemporaryRedirect, func(c *config.Config, _ *pingemu.Server, r string) { c.UserinfoURL = r + "/as/userinfo" }},
		{"userinfo", "userinfo_url", http.StatusFound, func(c *config.Config, _ *pingemu.Server, r string) { c.UserinfoURL = r + "/as/userinfo" }},
	} {
		for _, defaultClient := range []bool{true, false} {
			name := tc.endpoint + "/" + http.StatusText(tc.status)
			if defaultClient {
				name += "/default-client"
			} else {
				name += "/caller-client"
			}
			t.Run(name, func(t *testing.T) {
				elsewhere := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "must not be called", http.StatusTeapot)
				})
				redirector := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, elsewhere.srv.URL+r.URL.Path, tc.status)
				})
				e := newTestEnv(t, envOpts{defaultClient: defaultClient, clientPKCE: pingemu.PKCES256Required,
					mutate: func(c *config.Config, emu *pingemu.Server) {
						c.CodeChallenge = true
						tc.point(c, emu, redirector.srv.URL)
					}})
				var err, shown error
				if tc.endpoint == "discovery" {
					_, err = e.rp.Discover(context.Background())
					_, _, shown = e.rp.Begin(context.Background(), testRedirect, "/") // within the retry delay: no new request
				} else {
					var id any
					id, _, err = e.login(t, "alice")
					if err == nil {
						t.Fatalf("login succeeded with identity %v", id)
					}
					shown = err
				}
				if n := redirector.hits.Load(); n != 1 {
					t.Errorf("the redirecting %s endpoint got %d requests, want 1", tc.endpoint, n)
				}
				if n := elsewhere.hits.Load(); n != 0 {
					t.Errorf("the redirect target got %d requests, want none", n)
				}
				le := toLoginError(shown)
				msg := le.Message
				if !strings.Contains(msg, tc.endpoint+" endpoint") || !strings.Contains(msg, "redirect") || !strings.Contains(msg, "refused") {
					t.Errorf("message %q does not say the %s endpoint's redirect was refused", msg, tc.endpoint)
				}
				if tc.variable != "" {
					if le.Kind != plugin.KindVerification || !strings.Contains(msg, EnvName(tc.variable)) {
						t.Errorf("error %s %q, want verification naming %s", le.Kind, msg, EnvName(tc.variable))
					}
				}
				if strings.Contains(msg, elsewhere.srv.URL) {
					t.Errorf("message %q shows the redirect target", msg)
				}
				var re *RedirectError
				if !errorsAs(err, &re) || re.Endpoint != tc.endpoint || re.Status != tc.status ||
					!strings.HasPrefix(re.Location, elsewhere.srv.URL) || !strings.HasPrefix(re.URL, redirector.srv.URL) {
					t.Errorf("error %v is not the %s endpoint's RedirectError", err, tc.endpoint)
				}
			})
		}
	}
}

// TestCallerClientUnchanged checks New copies the caller's client instead of
// setting its CheckRedirect.
func TestCallerClientUnchanged(t *testing.T) {
	cfg := config.Default()
	cfg.AuthorizeURL, cfg.AccessTokenURL = "http://127.0.0.1:1/as/authorize", "http://127.0.0.1:1/as/token"
	cfg.ClientID, cfg.ClientSecret = testClientID, testSecret
	mine := &http.Client{}
	rp := newRP(t, Options{Config: &cfg, HTTPClient: mine})
	if mine.CheckRedirect != nil {
		t.Error("New set CheckRedirect on the caller's client")
	}
	if rp.hc == mine || rp.hc.CheckRedirect == nil {
		t.Error("the relying party's client follows redirects")
	}
}

// TestDefaultClientKeepsIdleConnections completes 8 logins whose token
// requests are held until all 8 have arrived, so 8 connections to the token
// endpoint are open at once: the default client must take every one back
// into its idle pool rather than close it.
func TestDefaultClientKeepsIdleConnections(t *testing.T) {
	const logins = 8
	var tokenURL string
	arrived, all := make(chan struct{}, logins), make(chan struct{})
	var count atomic.Int32
	barrier := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		if count.Add(1) == logins {
			close(all)
		}
		select {
		case <-all:
		case <-r.Context().Done():
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, tokenURL, r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})
	e := newTestEnv(t, envOpts{defaultClient: true, mutate: func(c *config.Config, emu *pingemu.Server) {
		tokenURL = emu.TokenURL()
		c.AccessTokenURL = barrier.srv.URL + "/as/token"
	}})
	var dropped atomic.Int32
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		PutIdleConn: func(err error) {
			if err != nil {
				dropped.Add(1)
			}
		},
	})
	done := make(chan error, logins)
	for range logins {
		cb, sealed := e.begin(t, "alice", "/")
		go func() {
			_, err := e.rp.Complete(ctx, testRedirect, sealed, cb.Query())
			done <- err
		}()
	}
	for range logins {
		receive(t, arrived, "a token request at the barrier")
	}
	for range logins {
		if err := receive(t, done, "a login to complete"); err != nil {
			t.Fatal(err)
		}
	}
	if n := dropped.Load(); n != 0 {
		t.Errorf("%d connections were closed instead of kept idle after %d logins at once", n, logins)
	}
}
