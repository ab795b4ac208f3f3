package pingemu

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// noRedirect is a client that returns redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestAuthorizeErrorPages(t *testing.T) {
	s := startServer(t, Options{})
	tests := []struct {
		name  string
		extra url.Values
		code  string
	}{
		{"unknown client", url.Values{"client_id": {"nope"}}, "invalid_client"},
		{"missing client", url.Values{"client_id": {""}}, "invalid_request"},
		{"unregistered redirect_uri", url.Values{"redirect_uri": {"http://127.0.0.1:9/evil"}}, "invalid_request"},
		{"redirect_uri prefix", url.Values{"redirect_uri": {testRedirect + "/more"}}, "invalid_request"},
		{"redirect_uri case", url.Values{"redirect_uri": {strings.ToUpper(testRedirect)}}, "invalid_request"},
		{"missing redirect_uri", url.Values{"redirect_uri": {""}}, "invalid_request"},
		{"repeated redirect_uri", url.Values{"redirect_uri": {testRedirect, testRedirect}}, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := noRedirect.Get(authRequestURL(s, "basic-app", tc.extra))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
				t.Fatalf("status %d Location %q, want a 400 page", resp.StatusCode, resp.Header.Get("Location"))
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), tc.code) {
				t.Errorf("page %s lacks %s", body, tc.code)
			}
			if _, err := Login(t.Context(), nil, authRequestURL(s, "basic-app", tc.extra), "alice", "alice-pw"); err == nil {
				t.Error("Login succeeded on an error page")
			}
		})
	}
}

// A loopback redirect URI registered without a port matches any port, as
// RFC 8252 section 7.3 asks; everything else still matches exactly.
func TestLoopbackRedirectAnyPort(t *testing.T) {
	c := testClient("cli", AuthBasic, "")
	c.RedirectURIs = []string{"http://127.0.0.1/callback", "http://[::1]/cb?x=1", "https://127.0.0.1/tls"}
	s := startServer(t, Options{Clients: []Client{c}})
	for uri, ok := range map[string]bool{
		"http://127.0.0.1:8250/callback":   true,
		"http://127.0.0.1/callback":        true,
		"http://[::1]:4000/cb?x=1":         true,
		"http://127.0.0.1:8250/callback/x": false,
		"http://127.0.0.2:8250/callback":   false,
		"http://localhost:8250/callback":   false,
		"http://[::1]:4000/cb":             false,
		"https://127.0.0.1:8443/tls":       false,
		"http://user@127.0.0.1:1/callback": false,
	} {
		target, err := Login(t.Context(), nil, authRequestURL(s, "cli", url.Values{"redirect_uri": {uri}}), "alice", "alice-pw")
		if got := err == nil && target.Query().Get("code") != ""; got != ok {
			t.Errorf("redirect_uri %s accepted = %v (%v), want %v", uri, got, err, ok)
		}
	}
}

func TestAuthorizeErrorRedirects(t *testing.T) {
	s := startServer(t, Options{})
	tests := []struct {
		name  string
		extra url.Values
		code  string
	}{
		{"implicit flow", url.Values{"response_type": {"id_token token"}}, "unsupported_response_type"},
		{"missing response_type", url.Values{"response_type": {""}}, "invalid_request"},
		{"no openid scope", url.Values{"scope": {"profile email"}}, "invalid_scope"},
		{"openid as a substring", url.Values{"scope": {"openidx"}}, "invalid_scope"},
		{"repeated state", url.Values{"state": {"a", "b"}}, "invalid_request"},
		{"prompt none without a session", url.Values{"prompt": {"none"}}, "login_required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target, err := Login(t.Context(), nil, authRequestURL(s, "basic-app", tc.extra), "alice", "alice-pw")
			if err != nil {
				t.Fatal(err)
			}
			if got := target.Scheme + "://" + target.Host + target.Path; got != testRedirect {
				t.Errorf("redirected to %s", got)
			}
			if q := target.Query(); q.Get("error") != tc.code || q.Get("iss") != s.Issuer() || q.Has("code") {
				t.Errorf("query %v, want error %s", q, tc.code)
			}
		})
	}
}

func TestLoginPage(t *testing.T) {
	s := startServer(t, Options{Flavor: PingFederate})
	evil := `"><script>alert(1)</script>&`
	resp, err := http.Get(authRequestURL(s, "basic-app", url.Values{"state": {evil}, "login_hint": {"<b>x</b>"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if strings.Contains(string(body), "<script>") || strings.Contains(string(body), "<b>") {
		t.Fatalf("unescaped input on the page:\n%s", body)
	}
	doc, err := html.Parse(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	form, err := findLoginForm(doc, resp.Request.URL)
	if err != nil {
		t.Fatal(err)
	}
	if form.method != http.MethodPost || form.action.String() != s.AuthorizeURL() {
		t.Errorf("form %s %s", form.method, form.action)
	}
	if form.fields.Get("state") != evil || form.fields.Get("username") != "<b>x</b>" || !form.fields.Has("password") {
		t.Errorf("form fields %v", form.fields)
	}
	if btn := findByID(doc, "signin"); btn == nil || btn.Data != "button" || attr(btn, "type") != "submit" {
		t.Errorf("no submit button with id signin")
	}

	// The escaped state round-trips through the form.
	target, err := Login(t.Context(), nil, authRequestURL(s, "basic-app", url.Values{"state": {evil}}), "alice", "alice-pw")
	if err != nil {
		t.Fatal(err)
	}
	if target.Query().Get("state") != evil {
		t.Errorf("state came back as %q", target.Query().Get("state"))
	}
}

func TestLoginRejected(t *testing.T) {
	s := startServer(t, Options{})
	tests := []struct{ name, user, password string }{
		{"wrong password", "alice", "bob-pw"},
		{"unknown user", "mallory", "alice-pw"},
		{"empty password", "alice", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Login(t.Context(), nil, authRequestURL(s, "basic-app", nil), tc.user, tc.password)
			if !errors.Is(err, ErrLoginRejected) || !strings.Contains(err.Error(), "Invalid username or password") {
				t.Fatalf("err = %v", err)
			}
		})
	}

	// A wrong password re-shows the form, still usable for another attempt.
	form := url.Values{"client_id": {"basic-app"}, "redirect_uri": {testRedirect}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s"}, "username": {"alice"}, "password": {"bad"}}
	resp, err := noRedirect.PostForm(s.AuthorizeURL(), form)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	again, err := findLoginForm(doc, resp.Request.URL)
	if err != nil {
		t.Fatal(err)
	}
	if again.fields.Get("username") != "alice" || again.fields.Get("password") != "" || again.fields.Get("state") != "s" {
		t.Errorf("re-shown form fields %v", again.fields)
	}
	again.fields.Set("password", "alice-pw")
	resp, err = noRedirect.PostForm(again.action.String(), again.fields)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || loc.Query().Get("code") == "" {
		t.Errorf("second attempt: %d %v %v", resp.StatusCode, loc, err)
	}

	// Tampered hidden fields are checked again on POST.
	form.Set("redirect_uri", "http://127.0.0.1:9/evil")
	form.Set("password", "alice-pw")
	resp, err = noRedirect.PostForm(s.AuthorizeURL(), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
		t.Errorf("tampered redirect_uri: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestRedirectKeepsQuery(t *testing.T) {
	const cb = "http://127.0.0.1:9/cb?tenant=a%20b"
	s := startServer(t, Options{Clients: []Client{{ID: "app", Secret: "x", RedirectURIs: []string{cb}}}})
	q := url.Values{"client_id": {"app"}, "redirect_uri": {cb}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s1"}}
	target, err := Login(t.Context(), nil, s.AuthorizeURL()+"?"+q.Encode(), "bob", "bob-pw")
	if err != nil {
		t.Fatal(err)
	}
	if got := target.Query(); got.Get("tenant") != "a b" || got.Get("code") == "" || got.Get("state") != "s1" {
		t.Errorf("callback query %v", got)
	}
}

// An authorization request may arrive by POST; the login form answers it.
func TestAuthorizeByPost(t *testing.T) {
	s := startServer(t, Options{})
	q := url.Values{"client_id": {"basic-app"}, "redirect_uri": {testRedirect}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"posted"}, "prompt": {"login"}}
	resp, err := noRedirect.PostForm(s.AuthorizeURL(), q)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	if findByID(doc, "error") != nil {
		t.Error("a posted authorization request shows an error")
	}
	form, err := findLoginForm(doc, resp.Request.URL)
	if err != nil {
		t.Fatal(err)
	}
	if form.fields.Get("state") != "posted" || form.fields.Get("prompt") != "login" {
		t.Errorf("form fields %v", form.fields)
	}
}
