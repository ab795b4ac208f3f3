package host

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/internal/testutil"
)

const testIssuer = "https://auth.pingone.com/env/as"

// testEnv is a handler wired to a fake plugin and a fake directory.
type testEnv struct {
	t       *testing.T
	h       http.Handler
	auth    *fakeAuth
	dir     *fakeDirectory
	clock   *testutil.Clock
	public  string
	changes int
}

func newTestEnv(t *testing.T, publicURL string) *testEnv {
	t.Helper()
	return newTestEnvWith(t, publicURL, nil)
}

// newTestEnvWith is newTestEnv with the handler's configuration changed by
// change before the handler is built.
func newTestEnvWith(t *testing.T, publicURL string, change func(*HandlerConfig)) *testEnv {
	t.Helper()
	clock := testutil.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	e := &testEnv{t: t, auth: newFakeAuth(), dir: newFakeDirectory(clock.Now), clock: clock, public: publicURL}
	e.auth.identity = sso.Identity{Issuer: testIssuer, Subject: "s-1", UserID: "s-1", Email: "ada@example.com", Name: "Ada"}
	admin := "admin"
	e.auth.decision = sso.Decision{Allow: true, Signup: true, Company: "c1", Role: &admin, SyncGroups: true,
		Groups: []string{"ML Team", "Ops"}, Reasons: []string{"signup:default_company", "role:admin_group", "groups:synced"}}
	cfg := HandlerConfig{
		Auth: e.auth, Directory: e.dir, PublicURL: publicURL, SessionTTL: time.Hour, Now: clock.Now,
		OnDirectoryChange: func(context.Context) { e.changes++ },
	}
	if change != nil {
		change(&cfg)
	}
	h, err := NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	return e
}

// do serves one request and returns the response.
func (e *testEnv) do(method, target string, hdr http.Header, cookies ...*http.Cookie) *http.Response {
	e.t.Helper()
	return e.doFrom("", method, target, hdr, cookies...)
}

// doFrom is do with the request coming from the peer address remote
// ("ip:port"); empty means httptest's default peer.
func (e *testEnv) doFrom(remote, method, target string, hdr http.Header, cookies ...*http.Cookie) *http.Response {
	e.t.Helper()
	r := httptest.NewRequest(method, target, nil)
	if remote != "" {
		r.RemoteAddr = remote
	}
	for k, v := range hdr {
		r.Header[k] = v
	}
	for _, c := range cookies {
		if c != nil {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w.Result()
}

// begin runs /login/ping and returns the state cookie and state parameter.
func (e *testEnv) begin(returnTo string) (*http.Cookie, string) {
	e.t.Helper()
	target := "/login/ping"
	if returnTo != "" {
		target += "?return_to=" + url.QueryEscape(returnTo)
	}
	resp := e.do("GET", target, nil)
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("login: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	return cookieNamed(resp, e.stateCookie()), loc.Query().Get("state")
}

// stateCookie is the name of the login-state cookie for the env's scheme.
func (e *testEnv) stateCookie() string {
	if strings.HasPrefix(e.public, "https:") {
		return "__Host-" + stateCookieName
	}
	return stateCookieName
}

// signIn runs a whole login and returns the callback's response.
func (e *testEnv) signIn(returnTo string) *http.Response {
	e.t.Helper()
	c, state := e.begin(returnTo)
	return e.do("GET", CallbackPath+"?code=abc&state="+state, nil, c)
}

// signInWith begins a login and calls back with query (starting with "?")
// plus the login's state.
func (e *testEnv) signInWith(query string) *http.Response {
	e.t.Helper()
	c, state := e.begin("/")
	return e.do("GET", CallbackPath+query+"&state="+state, nil, c)
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
