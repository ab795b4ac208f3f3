package pingemu

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCodeFlow(t *testing.T) {
	tests := []struct {
		flavor   Flavor
		clientID string
		method   string
		ttl      time.Duration
		issuer   string // relative to the base URL
	}{
		{PingOne, "basic-app", AuthBasic, time.Hour, "/" + DefaultEnvID + "/as"},
		{PingOne, "post-app", AuthPost, time.Hour, "/" + DefaultEnvID + "/as"},
		{PingOneCustomDomain, "basic-app", AuthBasic, time.Hour, "/as"},
		{PingFederate, "basic-app", AuthBasic, 5 * time.Minute, ""},
		{PingFederate, "post-app", AuthPost, 5 * time.Minute, ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.flavor)+"/"+tc.method, func(t *testing.T) {
			clk := newClock()
			s := startServer(t, Options{Flavor: tc.flavor, Now: clk.Now})
			if got, want := s.Issuer(), s.URL()+tc.issuer; got != want {
				t.Fatalf("Issuer = %q, want %q", got, want)
			}
			target, err := Login(t.Context(), nil, authRequestURL(s, tc.clientID, url.Values{
				"code_challenge": {s256(testVerifier)}, "code_challenge_method": {"S256"},
			}), "alice", "alice-pw")
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if got := target.Scheme + "://" + target.Host + target.Path; got != testRedirect {
				t.Fatalf("redirected to %q, want %q", got, testRedirect)
			}
			q := target.Query()
			if q.Get("state") != "st-123" || q.Get("iss") != s.Issuer() || q.Get("code") == "" {
				t.Fatalf("callback query = %v", q)
			}

			res := exchange(t, s, tc.clientID, testSecret, tc.method, url.Values{"code": {q.Get("code")}, "code_verifier": {testVerifier}})
			if res.status != 200 {
				t.Fatalf("token status %d: %v", res.status, res.body)
			}
			if res.str("token_type") != "Bearer" || res.str("access_token") == "" || res.str("scope") != "openid profile email" || res.body["expires_in"] != 3600.0 {
				t.Fatalf("token answer = %v", res.body)
			}
			if res.header.Get("Cache-Control") != "no-store" {
				t.Errorf("token answer Cache-Control = %q", res.header.Get("Cache-Control"))
			}
			claims, kid, err := verifyJWT(t, s, res.str("id_token"))
			if err != nil {
				t.Fatalf("ID token does not verify: %v", err)
			}
			if kid != s.KeyIDs()[0] {
				t.Errorf("kid = %q, want %q", kid, s.KeyIDs()[0])
			}
			now := clk.Now().Unix()
			want := map[string]any{
				"iss": s.Issuer(), "sub": DefaultSubject("alice"), "aud": tc.clientID, "nonce": "n-456",
				"iat": float64(now), "exp": float64(now + int64(tc.ttl/time.Second)), "auth_time": float64(now),
				"email": "alice@example.com", "email_verified": true, "name": "Alice Example",
				"given_name": "Alice", "family_name": "Example", "preferred_username": "alice",
				"department": "ML", "groups": []any{"ML Team", "Admins"}, "amr": []any{"pwd"},
			}
			for k, v := range want {
				if !reflect.DeepEqual(claims[k], v) {
					t.Errorf("claim %s = %#v, want %#v", k, claims[k], v)
				}
			}
			for _, k := range []string{"acr", "sid", "at_hash"} {
				if claims[k] == nil || claims[k] == "" {
					t.Errorf("claim %s missing", k)
				}
			}
			_, hasEnv := claims["env"]
			_, hasRegion := claims["p1.region"]
			if isP1 := tc.flavor != PingFederate; hasEnv != isP1 || hasRegion != isP1 {
				t.Errorf("env/p1.region present = %v/%v for %s", hasEnv, hasRegion, tc.flavor)
			}
			if tc.flavor != PingFederate && claims["env"] != DefaultEnvID {
				t.Errorf("env = %v", claims["env"])
			}

			resp, body := getUserinfo(t, s, res.str("access_token"))
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("userinfo %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			var ui map[string]any
			if err := json.Unmarshal(body, &ui); err != nil {
				t.Fatal(err)
			}
			if ui["sub"] != DefaultSubject("alice") || ui["email"] != "alice@example.com" || !reflect.DeepEqual(ui["groups"], []any{"ML Team", "Admins"}) {
				t.Errorf("userinfo = %v", ui)
			}
		})
	}
}
