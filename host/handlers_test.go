package host

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/plugin"
)

func TestNewHandlerRejectsBadConfig(t *testing.T) {
	ok := HandlerConfig{Auth: newFakeAuth(), Directory: newFakeDirectory(time.Now), PublicURL: "http://127.0.0.1:8080"}
	tests := []struct {
		name   string
		change func(*HandlerConfig)
		want   string
	}{
		{"no auth", func(c *HandlerConfig) { c.Auth = nil }, "Auth"},
		{"no directory", func(c *HandlerConfig) { c.Directory = nil }, "Directory"},
		{"relative url", func(c *HandlerConfig) { c.PublicURL = "127.0.0.1:8080" }, "PublicURL"},
		{"path", func(c *HandlerConfig) { c.PublicURL = "http://h/app" }, "PublicURL"},
		{"ftp", func(c *HandlerConfig) { c.PublicURL = "ftp://h" }, "PublicURL"},
		{"negative ttl", func(c *HandlerConfig) { c.SessionTTL = -time.Second }, "SessionTTL"},
		{"plain http off loopback", func(c *HandlerConfig) { c.PublicURL = "http://ml.example.com" }, "InsecureHTTP"},
		{"plain http on a LAN address", func(c *HandlerConfig) { c.PublicURL = "http://10.0.0.5:8080" }, "InsecureHTTP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			_, err := NewHandler(c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
	for _, public := range []string{"http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080", "https://ml.example.com"} {
		c := ok
		c.PublicURL = public
		if _, err := NewHandler(c); err != nil {
			t.Errorf("PublicURL %s: %v", public, err)
		}
	}
}

// TestInsecureHTTP serves a plain http origin that is not loopback: it
// needs InsecureHTTP, the log says the session cookie is not Secure, and
// indeed it is not.
func TestInsecureHTTP(t *testing.T) {
	logger, logs := testutil.Logger(t, "host")
	e := newTestEnvWith(t, "http://ml.example.com", func(c *HandlerConfig) {
		c.InsecureHTTP = true
		c.Logger = logger
	})
	if !strings.Contains(logs.String(), "the session cookie cannot be Secure") {
		t.Errorf("no warning in the log:\n%s", logs.String())
	}
	sc := cookieNamed(e.signIn("/"), sessionCookieName)
	if sc == nil || sc.Secure {
		t.Fatalf("session cookie %+v, want one without Secure", sc)
	}
}

func TestLoginRedirectAndStateCookie(t *testing.T) {
	for _, tt := range []struct {
		public, name, path string
		secure             bool
	}{
		{"http://127.0.0.1:8080", stateCookieName, "/callback_ping", false},
		{"https://ml.example.com", "__Host-" + stateCookieName, "/", true},
	} {
		t.Run(tt.public, func(t *testing.T) {
			e := newTestEnv(t, tt.public)
			resp := e.do("GET", "/login/ping?return_to=%2Fprojects%3Fx%3D1", nil)
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d, want 302", resp.StatusCode)
			}
			if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "https://idp.example.com/as/authorize?") {
				t.Fatalf("Location %q", loc)
			}
			if got := e.auth.begins[0]; got.RedirectURI != tt.public+"/callback_ping" || got.ReturnTo != "/projects?x=1" {
				t.Fatalf("Begin got %+v", got)
			}
			c := cookieNamed(resp, tt.name)
			if c == nil || len(resp.Cookies()) != 1 {
				t.Fatalf("cookies %v, want one named %s", resp.Cookies(), tt.name)
			}
			if c.Path != tt.path || c.MaxAge != 600 || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != tt.secure {
				t.Fatalf("state cookie %+v (raw %q)", c, resp.Header.Get("Set-Cookie"))
			}
			if c.Value != "sealed-st1" {
				t.Fatalf("state cookie value %q", c.Value)
			}
		})
	}
}

// TestCallbackStateCookieNames completes a login under each scheme: the
// callback reads the scheme's cookie, clears it with the same name and
// path, and over https refuses a cookie without the __Host- prefix (one a
// sibling subdomain could have planted).
func TestCallbackStateCookieNames(t *testing.T) {
	for _, tt := range []struct {
		public, name, path, planted string
		secure                      bool
	}{
		{"http://127.0.0.1:8080", stateCookieName, "/callback_ping", "__Host-" + stateCookieName, false},
		{"https://ml.example.com", "__Host-" + stateCookieName, "/", stateCookieName, true},
	} {
		t.Run(tt.public, func(t *testing.T) {
			e := newTestEnv(t, tt.public)
			c, state := e.begin("/x")
			if c == nil || c.Name != tt.name {
				t.Fatalf("state cookie %+v, want %s", c, tt.name)
			}
			resp := e.do("GET", CallbackPath+"?code=abc&state="+state, nil, c)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("callback with %s: status %d, want 303", tt.name, resp.StatusCode)
			}
			cleared := cookieNamed(resp, tt.name)
			if cleared == nil || cleared.MaxAge >= 0 || cleared.Path != tt.path || cleared.Secure != tt.secure {
				t.Fatalf("state cookie not cleared with its name and path: %+v", cleared)
			}

			c, state = e.begin("/x")
			planted := &http.Cookie{Name: tt.planted, Value: c.Value}
			if resp := e.do("GET", CallbackPath+"?code=abc&state="+state, nil, planted); resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("callback with only a %s cookie: status %d, want 400", tt.planted, resp.StatusCode)
			}
			if len(e.auth.completes) != 1 {
				t.Fatalf("Complete called %d times, want 1", len(e.auth.completes))
			}
		})
	}
}

func TestCallbackWithoutCookie(t *testing.T) {
	e := newTestEnv(t, "http://127.0.0.1:8080")
	_, state := e.begin("/x")
	resp := e.do("GET", CallbackPath+"?code=abc&state="+state, nil)
	page := body(t, resp)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	if !strings.Contains(textOf(byID(t, page, "error")), "expired") {
		t.Fatalf("page lacks the message: %s", page)
	}
	if len(e.auth.completes) != 0 {
		t.Fatal("Complete was called without a state")
	}
	if w, u, s := e.dir.counts(); w != 0 || u != 0 || s != 0 {
		t.Fatalf("directory changed: writes %d users %d sessions %d", w, u, s)
	}
}

func TestCallbackFailures(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		status   int
		wantText string
	}{
		{"invalid state", &plugin.LoginError{Kind: plugin.KindInvalidState, Message: "the login has expired"}, 400, "the login has expired"},
		{"provider error", &plugin.LoginError{Kind: plugin.KindProvider, Message: "the identity provider refused: access_denied"}, 400, "access_denied"},
		{"invalid input", &plugin.LoginError{Kind: plugin.KindInvalidInput, Message: "the callback has no code"}, 400, "no code"},
		{"verification", &plugin.LoginError{Kind: plugin.KindVerification, Message: "the ID token could not be verified"}, 502, "could not be verified"},
		{"provider unreachable", &plugin.LoginError{Kind: plugin.KindUnavailable, Message: "the identity provider did not answer"}, 503, "did not answer"},
		{"login internal", &plugin.LoginError{Kind: plugin.KindInternal, Message: "db at 10.0.0.1 failed"}, 500, "internal error"},
		{"plugin down", &UnavailableError{Err: errors.New("process exited")}, 503, "temporarily unavailable"},
		{"grpc unavailable", status.Error(codes.Unavailable, "connection refused"), 503, "temporarily unavailable"},
		{"timeout", context.DeadlineExceeded, 504, "did not answer in time"},
		{"other", errors.New("client_secret=hunter2 rejected"), 502, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, "http://127.0.0.1:8080")
			c, state := e.begin("/x")
			e.auth.completeErr = tt.err
			resp := e.do("GET", CallbackPath+"?code=abc&state="+state, nil, c)
			page := body(t, resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			msg := textOf(byID(t, page, "error"))
			if !strings.Contains(msg, tt.wantText) {
				t.Fatalf("#error = %q, want %q", msg, tt.wantText)
			}
			for _, secret := range []string{"hunter2", "10.0.0.1", "connection refused", "abc"} {
				if strings.Contains(page, secret) {
					t.Fatalf("page shows %q: %s", secret, page)
				}
			}
			if sc := cookieNamed(resp, stateCookieName); sc == nil || sc.MaxAge >= 0 {
				t.Fatalf("state cookie not cleared: %+v", sc)
			}
			if w, _, _ := e.dir.counts(); w != 0 {
				t.Fatalf("directory written %d times", w)
			}
		})
	}
}

func TestCallbackReplayedState(t *testing.T) {
	e := newTestEnv(t, "http://127.0.0.1:8080")
	c, state := e.begin("/x")
	if resp := e.do("GET", CallbackPath+"?code=abc&state="+state, nil, c); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first callback: status %d", resp.StatusCode)
	}
	_, _, sessions := e.dir.counts()
	resp := e.do("GET", CallbackPath+"?code=abc&state="+state, nil, c)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replay: status %d, want 400", resp.StatusCode)
	}
	if _, _, n := e.dir.counts(); n != sessions || cookieNamed(resp, sessionCookieName) != nil {
		t.Fatalf("the replay started a session")
	}
	if got := e.auth.completes[1].Query; got["code"] != "abc" || got["state"] != state {
		t.Fatalf("Complete query %v", got)
	}
}

func TestCallbackDeny(t *testing.T) {
	for _, tt := range []struct {
		name     string
		identity sso.Identity
		decision sso.Decision
		account  string
		want     []reason
	}{
		{
			name:     "built-in deny",
			identity: sso.Identity{Issuer: testIssuer, UserID: "s-1", Email: "ada@example.com", Name: "Ada"},
			decision: sso.Decision{Reasons: []string{"deny:email_not_verified"}},
			account:  "ada@example.com",
			want:     []reason{{"deny:email_not_verified", sso.Sentence("deny:email_not_verified")}},
		},
		{
			name:     "extension deny with a message",
			identity: sso.Identity{Issuer: testIssuer, UserID: "s-1", Email: "bo@contractor.example", Name: "Bo"},
			decision: sso.Decision{Reasons: []string{"deny:contractor"}, Message: "Contractors sign in through the <partner> portal."},
			account:  "bo@contractor.example",
			want:     []reason{{"deny:contractor", "Contractors sign in through the <partner> portal."}},
		},
		{
			name:     "extension deny without a message",
			identity: sso.Identity{Issuer: testIssuer, UserID: "s-1", Name: "No Mail"},
			decision: sso.Decision{Reasons: []string{"deny:custom_rule"}},
			account:  "No Mail",
			want:     []reason{{"deny:custom_rule", "An operator rule (custom_rule) denies the sign-in."}},
		},
		{
			name:     "no email or name",
			identity: sso.Identity{Issuer: testIssuer, UserID: "s-1"},
			decision: sso.Decision{Reasons: []string{"policy_error"}},
			account:  "s-1",
			want:     []reason{{"policy_error", sso.Sentence("policy_error")}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, "http://127.0.0.1:8080")
			e.auth.identity = tt.identity
			e.auth.decision = tt.decision
			resp := e.signIn("/x")
			page := body(t, resp)
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403", resp.StatusCode)
			}
			if got := textOf(byID(t, page, "account")); got != tt.account {
				t.Errorf("#account %q, want %q", got, tt.account)
			}
			if got := reasonItems(t, byID(t, page, "reasons")); !slices.Equal(got, tt.want) {
				t.Errorf("reasons %q, want %q", got, tt.want)
			}
			if !strings.Contains(textOf(byID(t, page, "error")), "was not allowed") {
				t.Errorf("#error %q", textOf(byID(t, page, "error")))
			}
			for k, v := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"} {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s %q, want %q", k, got, v)
				}
			}
			if cookieNamed(resp, sessionCookieName) != nil {
				t.Fatal("a deny set a session cookie")
			}
			if w, u, s := e.dir.counts(); w != 0 || u != 0 || s != 0 {
				t.Fatalf("directory changed: writes %d users %d sessions %d", w, u, s)
			}
		})
	}
}

// TestCallbackPagesHeaders checks that every answer of the callback, page
// or redirect, keeps the URL's code and state from caches and referrers.
func TestCallbackPagesHeaders(t *testing.T) {
	e := newTestEnv(t, "http://127.0.0.1:8080")
	c, state := e.begin("/x")
	answers := map[string]*http.Response{
		"no cookie":      e.do("GET", CallbackPath+"?code=abc&state="+state, nil),
		"bad state":      e.do("GET", CallbackPath+"?code=abc&state=nope", nil, c),
		"provider error": e.signInWith("?error=access_denied"),
		"allowed":        e.signIn("/x"),
	}
	wantStatus := map[string]int{"no cookie": 400, "bad state": 400, "provider error": 400, "allowed": 303}
	for name, resp := range answers {
		if resp.StatusCode != wantStatus[name] {
			t.Errorf("%s: status %d, want %d", name, resp.StatusCode, wantStatus[name])
		}
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: Cache-Control %q, Referrer-Policy %q", name, resp.Header.Get("Cache-Control"), resp.Header.Get("Referrer-Policy"))
		}
	}
}

func TestCallbackAllowStartsSession(t *testing.T) {
	for _, tt := range []struct {
		public, cookie string
		secure         bool
	}{
		{"http://127.0.0.1:8080", sessionCookieName, false},
		{"https://ml.example.com", "__Host-" + sessionCookieName, true},
	} {
		t.Run(tt.public, func(t *testing.T) {
			e := newTestEnv(t, tt.public)
			resp := e.signIn("/projects/7")
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/projects/7" {
				t.Fatalf("status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			sc := cookieNamed(resp, tt.cookie)
			if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" ||
				sc.Secure != tt.secure || sc.MaxAge != 3600 {
				t.Fatalf("session cookie %+v", sc)
			}
			in := e.auth.inputs[0]
			if in.User != nil || in.Identity.UserID != "s-1" {
				t.Fatalf("Decide input %+v", in)
			}

			me := e.do("GET", "/api/me", nil, sc)
			if me.StatusCode != http.StatusOK || me.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("/api/me status %d type %q", me.StatusCode, me.Header.Get("Content-Type"))
			}
			var got map[string]any
			if err := json.NewDecoder(me.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"id": "u-s-1", "email": "ada@example.com", "name": "Ada", "company": "c1",
				"company_name": "Company c1", "role": "admin", "groups": []any{"ML Team", "Ops"},
				"ping_groups": []any{}, "reasons": e.auth.decision.Reasons}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(want)
			if string(gotJSON) != string(wantJSON) {
				t.Fatalf("/api/me = %s, want %s", gotJSON, wantJSON)
			}

			home := body(t, e.do("GET", "/", nil, sc))
			if r := textOf(byID(t, home, "role")); r != "admin" {
				t.Fatalf("#role = %q", r)
			}
			if g := items(byID(t, home, "groups")); !slices.Equal(g, []string{"ML Team", "Ops"}) {
				t.Fatalf("#groups = %q", g)
			}
			if textOf(byID(t, home, "email")) != "ada@example.com" || textOf(byID(t, home, "company")) != "c1" {
				t.Fatalf("home page: %s", home)
			}
		})
	}
}

func TestCallbackExistingUser(t *testing.T) {
	e := newTestEnv(t, "http://127.0.0.1:8080")
	e.dir.addUser(testIssuer, "s-1", sso.Account{ID: "u9", Email: "ada@example.com", Company: "c1", Role: "user", Groups: []string{"Old"}})
	e.auth.decision = sso.Decision{Allow: true, Company: "c1", Reasons: []string{"login:existing_user"}}
	if resp := e.signIn(""); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	u := e.auth.inputs[0].User
	if u == nil || u.ID != "u9" || u.Role != "user" || !slices.Equal(u.Groups, []string{"Old"}) {
		t.Fatalf("Decide got user %+v", u)
	}
}

func TestCallbackApplyErrorStartsNoSession(t *testing.T) {
	e := newTestEnv(t, "http://127.0.0.1:8080")
	e.dir.applyErr = errors.New("UNIQUE constraint failed: users.email")
	resp := e.signIn("/x")
	page := body(t, resp)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	if strings.Contains(page, "UNIQUE") {
		t.Fatalf("page shows internal detail: %s", page)
	}
	if cookieNamed(resp, sessionCookieName) != nil {
		t.Fatal("session cookie set after a failed Apply")
	}
	if _, u, s := e.dir.counts(); u != 0 || s != 0 {
		t.Fatalf("users %d sessions %d", u, s)
	}
	if e.changes != 1 {
		t.Fatalf("OnDirectoryChange called %d times, want 1", e.changes)
	}
}

func TestCallbackDecideAndLookupFailures(t *testing.T) {
	t.Run("decide down", func(t *testing.T) {
		e := newTestEnv(t, "http://127.0.0.1:8080")
		e.auth.decideErr = &UnavailableError{RetryAfter: time.Second}
		if resp := e.signIn("/"); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503", resp.StatusCode)
		}
		if w, _, _ := e.dir.counts(); w != 0 {
			t.Fatal("directory written")
		}
	})
	t.Run("find user fails", func(t *testing.T) {
		e := newTestEnv(t, "http://127.0.0.1:8080")
		e.dir.findErr = errors.New("disk I/O error")
		resp := e.signIn("/")
		if resp.StatusCode != http.StatusInternalServerError || strings.Contains(body(t, resp), "disk") {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if len(e.auth.inputs) != 0 {
			t.Fatal("Decide called after a failed lookup")
		}
	})
}

func TestBeginFailures(t *testing.T) {
	e := newTestEnv(t, "http://127.0.0.1:8080")
	e.auth.beginErr = &UnavailableError{RetryAfter: time.Second}
	resp := e.do("GET", "/login/ping", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || cookieNamed(resp, stateCookieName) != nil {
		t.Fatalf("status %d cookies %v", resp.StatusCode, resp.Cookies())
	}
}

func TestCallbackHeadKeepsState(t *testing.T) {
	e := newTestEnv(t, "http://127.0.0.1:8080")
	c, state := e.begin("/x")
	if resp := e.do("HEAD", CallbackPath+"?code=abc&state="+state, nil, c); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("HEAD callback: status %d, want 405", resp.StatusCode)
	}
	if len(e.auth.completes) != 0 {
		t.Fatalf("HEAD called Complete %d times", len(e.auth.completes))
	}
	if resp := e.do("GET", CallbackPath+"?code=abc&state="+state, nil, c); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET after HEAD: status %d, want 303", resp.StatusCode)
	}
}
