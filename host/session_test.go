package host

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestHomeSignedOut(t *testing.T) {
	e := newTestEnv(t, "http://127.0.0.1:8080")
	resp := e.do("GET", "/", nil)
	page := body(t, resp)
	if resp.StatusCode != http.StatusOK || byID(t, page, "role") != nil {
		t.Fatalf("status %d page %s", resp.StatusCode, page)
	}
	link := byID(t, page, "login")
	if link == nil || textOf(link) != "Log in with Ping" {
		t.Fatalf("no login link: %s", page)
	}
	if resp := e.do("GET", "/nope", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/nope: status %d", resp.StatusCode)
	}
}

func TestMeWithoutSession(t *testing.T) {
	e := newTestEnv(t, "http://127.0.0.1:8080")
	for _, c := range []*http.Cookie{nil, {Name: sessionCookieName, Value: "nope"}} {
		resp := e.do("GET", "/api/me", nil, c)
		var got map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusUnauthorized || got["error"] == "" {
			t.Fatalf("status %d body %v", resp.StatusCode, got)
		}
	}
}

func TestLogout(t *testing.T) {
	tests := []struct {
		name    string
		hdr     http.Header
		allowed bool
	}{
		{"same origin", http.Header{"Origin": {"http://127.0.0.1:8080"}}, true},
		{"same-origin referer", http.Header{"Referer": {"http://127.0.0.1:8080/"}}, true},
		{"no origin headers", nil, true},
		{"cross origin", http.Header{"Origin": {"https://evil.example"}}, false},
		{"cross referer", http.Header{"Referer": {"https://evil.example/page"}}, false},
		{"null origin", http.Header{"Origin": {"null"}}, false},
		{"cross-site fetch", http.Header{"Sec-Fetch-Site": {"cross-site"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, "http://127.0.0.1:8080")
			sc := cookieNamed(e.signIn("/"), sessionCookieName)
			resp := e.do("POST", "/logout", tt.hdr, sc)
			me := e.do("GET", "/api/me", nil, sc)
			if !tt.allowed {
				if resp.StatusCode != http.StatusForbidden || me.StatusCode != http.StatusOK {
					t.Fatalf("logout status %d, /api/me %d; want 403 and a live session", resp.StatusCode, me.StatusCode)
				}
				return
			}
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
				t.Fatalf("status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if c := cookieNamed(resp, sessionCookieName); c == nil || c.MaxAge >= 0 {
				t.Fatalf("session cookie not expired: %+v", c)
			}
			if me.StatusCode != http.StatusUnauthorized {
				t.Fatalf("/api/me after logout: %d", me.StatusCode)
			}
		})
	}
	e := newTestEnv(t, "http://127.0.0.1:8080")
	if resp := e.do("GET", "/logout", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /logout: status %d", resp.StatusCode)
	}
}
