package host

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestSafeReturnTo(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/ok", "/ok"},
		{"/projects/1?tab=x#y", "/projects/1?tab=x#y"},
		{"/", "/"},
		{"", "/"},
		{"//evil.com", "/"},
		{"/\\evil.com", "/"},
		{"/./\\evil.com", "/"},
		{"/a/../\\evil.com", "/"},
		{"/#/../\\evil.com", "/"},
		{"/ok?q=\\", "/"},
		{"/a/../b", "/a/../b"},
		{"https://evil.com", "/"},
		{"javascript:alert(1)", "/"},
		{"%2F%2Fevil", "/"},
		{"evil.com/x", "/"},
		{"/\t/evil.com", "/"},
		{"/a\nb", "/"},
		{"/ok\x00", "/"},
		{"/\xff", "/"},
		{"/" + strings.Repeat("a", maxReturnTo), "/"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := SafeReturnTo(tt.in); got != tt.want {
				t.Fatalf("SafeReturnTo(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLoginSanitizesReturnTo(t *testing.T) {
	tests := []struct{ rawQuery, want string }{
		{"return_to=/ok", "/ok"},
		{"return_to=//evil.com", "/"},
		{"return_to=/%5Cevil.com", "/"},
		{"return_to=https://evil.com", "/"},
		{"return_to=javascript:alert(1)", "/"},
		{"return_to=%2F%2Fevil", "/"},
		{"return_to=", "/"},
		{"", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.rawQuery, func(t *testing.T) {
			e := newTestEnv(t, "http://127.0.0.1:8080")
			resp := e.do("GET", "/login/ping?"+tt.rawQuery, nil)
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := e.auth.begins[0].ReturnTo; got != tt.want {
				t.Fatalf("ReturnTo = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCallbackDropsUnsafeReturnTo(t *testing.T) {
	// A plugin that hands back an unsafe return path is not trusted either.
	e := newTestEnv(t, "http://127.0.0.1:8080")
	c, state := e.begin("/ok")
	e.auth.pending[c.Value] = [2]string{state, "//evil.com"}
	resp := e.do("GET", CallbackPath+"?code=abc&state="+state, nil, c)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestCallbackRedirectStaysOnSite follows crafted return paths through the
// whole login, including http.Redirect's path cleaning, and reads the
// Location as a browser does (a backslash is a slash): it must stay on the
// site.
func TestCallbackRedirectStaysOnSite(t *testing.T) {
	const public = "http://127.0.0.1:8080"
	base, _ := url.Parse(public + "/login/ping")
	for _, rt := range []string{
		"/./\\evil.com", "/a/../\\evil.com", "/#/../\\evil.com", "/..//evil.com", "/.//evil.com",
		"/%2F%2Fevil.com", "/./%5Cevil.com", "/a/..//..//evil.com", "/\t/evil.com", "/ /evil.com",
	} {
		t.Run(rt, func(t *testing.T) {
			e := newTestEnv(t, public)
			resp := e.signIn(rt)
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || loc == "" {
				t.Fatalf("status %d Location %q", resp.StatusCode, loc)
			}
			u, err := base.Parse(strings.ReplaceAll(loc, "\\", "/"))
			if err != nil || u.Scheme+"://"+u.Host != public {
				t.Fatalf("return path %q ends at Location %q, which a browser reads as %v (%v)", rt, loc, u, err)
			}
		})
	}
}
