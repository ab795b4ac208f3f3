package e2e_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/demo"
)

// sessionCookie returns the session cookie b holds for the server.
func (b *browser) sessionCookie() *http.Cookie {
	u, _ := url.Parse(b.d.URL + "/")
	for _, c := range b.hc.Jar.Cookies(u) {
		if strings.Contains(c.Name, "session") {
			return c
		}
	}
	return nil
}

// envValue returns the value of the variable name in env ("NAME=value").
func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// TestPagesShowNoSecret collects what the server sends back during good and
// bad logins (status pages, redirects, /api/me) and checks that no body or
// Location shows the client secret, a sealed login state, an authorization
// code or a session token. Cookies are where state and session travel, so
// only bodies and Locations are searched.
func TestPagesShowNoSecret(t *testing.T) {
	d := startDemo(t, demo.Options{})
	clientSecret := envValue(d.Env, config.VarName("client_secret", true))
	if clientSecret == "" {
		t.Fatal("the demo's client secret is not in its environment")
	}
	secrets := map[string]string{"client secret": clientSecret}
	var pages []*page
	keep := func(want int, p *page) {
		t.Helper()
		if p.status != want {
			t.Fatalf("status %d, want %d:\n%s", p.status, want, p.body)
		}
		pages = append(pages, p)
	}
	// begin starts a login in b, records its secrets and returns the
	// authorize URL.
	n := 0
	begin := func(b *browser) string {
		t.Helper()
		p := b.mustGet(d.URL + "/login/ping?return_to=%2Fprojects")
		keep(http.StatusFound, p)
		c := b.stateCookie()
		if c == nil || c.Value == "" {
			t.Fatal("no login state cookie after /login/ping")
		}
		n++
		secrets[fmt.Sprintf("login state %d", n)] = c.Value
		return p.location
	}
	signIn := func(b *browser, authURL, user string) string {
		t.Helper()
		cb := b.mustSignIn(authURL, user)
		u, err := url.Parse(cb)
		if err != nil || u.Query().Get("code") == "" {
			t.Fatalf("callback URL %q has no code", cb)
		}
		secrets["code of "+user] = u.Query().Get("code")
		return cb
	}

	// A login that works, then the home page and /api/me.
	a := newBrowser(t, d)
	authURL := begin(a)
	state := a.stateCookie()
	cb := signIn(a, authURL, demo.Admin)
	keep(http.StatusSeeOther, a.mustGet(cb))
	sc := a.sessionCookie()
	if sc == nil {
		t.Fatal("no session cookie after the login")
	}
	secrets["session token"] = sc.Value
	keep(http.StatusOK, a.mustGet(d.URL+"/"))
	keep(http.StatusOK, a.mustGet(d.URL+"/api/me"))

	// The same callback replayed with a copy of the spent state.
	thief := newBrowser(t, d)
	thief.setStateCookie(state)
	keep(http.StatusBadRequest, thief.mustGet(cb))

	// A deny.
	o := newBrowser(t, d)
	keep(http.StatusForbidden, o.mustGet(signIn(o, begin(o), demo.Outsider)))

	// A callback in a browser without the state cookie.
	m := newBrowser(t, d)
	cb = signIn(m, begin(m), demo.Member)
	keep(http.StatusBadRequest, newBrowser(t, d).mustGet(cb))

	// A forged code and an error from the provider, with a valid state.
	for _, q := range []string{"code=forged-code", "error=access_denied&error_description=denied"} {
		f := newBrowser(t, d)
		p := f.callbackWith(begin(f), q)
		if p.status < 400 {
			t.Fatalf("callback with %s: status %d", q, p.status)
		}
		pages = append(pages, p)
	}

	for _, p := range pages {
		for what, s := range secrets {
			if strings.Contains(p.body, s) || strings.Contains(p.location, s) {
				t.Errorf("a %d response shows the %s:\nLocation: %s\n%s", p.status, what, p.location, p.body)
			}
		}
	}
}
