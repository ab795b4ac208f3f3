package pingemu

import (
	"net/url"
	"testing"
)

func TestPKCE(t *testing.T) {
	const other = "other-verifier-0123456789-0123456789-0123456789"
	tests := []struct {
		name      string
		mode      PKCEMode
		challenge string
		method    string // "" leaves the parameter out
		verifier  string // "" leaves the parameter out
		authErr   string // error the authorize endpoint redirects with
		tokenErr  string // error the token endpoint answers
	}{
		{name: "optional without pkce", mode: PKCEOptional},
		{name: "optional verifier without challenge", mode: PKCEOptional, verifier: testVerifier, tokenErr: "invalid_grant"},
		{name: "S256", mode: PKCEOptional, challenge: s256(testVerifier), method: "S256", verifier: testVerifier},
		{name: "S256 wrong verifier", mode: PKCEOptional, challenge: s256(testVerifier), method: "S256", verifier: other, tokenErr: "invalid_grant"},
		{name: "S256 missing verifier", mode: PKCEOptional, challenge: s256(testVerifier), method: "S256", tokenErr: "invalid_grant"},
		{name: "plain", mode: PKCEOptional, challenge: testVerifier, method: "plain", verifier: testVerifier},
		{name: "plain wrong verifier", mode: PKCEOptional, challenge: testVerifier, method: "plain", verifier: other, tokenErr: "invalid_grant"},
		{name: "missing method means plain", mode: PKCEOptional, challenge: testVerifier, verifier: testVerifier},
		{name: "missing method is not S256", mode: PKCEOptional, challenge: s256(testVerifier), verifier: testVerifier, tokenErr: "invalid_grant"},
		{name: "verifier too short", mode: PKCEOptional, challenge: "short", method: "plain", authErr: "invalid_request"},
		{name: "unknown method", mode: PKCEOptional, challenge: s256(testVerifier), method: "S512", authErr: "invalid_request"},
		{name: "method without challenge", mode: PKCEOptional, method: "S256", authErr: "invalid_request"},
		{name: "required rejects missing", mode: PKCERequired, authErr: "invalid_request"},
		{name: "required accepts plain", mode: PKCERequired, challenge: testVerifier, verifier: testVerifier},
		{name: "required accepts S256", mode: PKCERequired, challenge: s256(testVerifier), method: "S256", verifier: testVerifier},
		{name: "S256 required rejects plain", mode: PKCES256Required, challenge: testVerifier, method: "plain", authErr: "invalid_request"},
		{name: "S256 required rejects missing method", mode: PKCES256Required, challenge: testVerifier, authErr: "invalid_request"},
		{name: "S256 required rejects missing", mode: PKCES256Required, authErr: "invalid_request"},
		{name: "S256 required accepts S256", mode: PKCES256Required, challenge: s256(testVerifier), method: "S256", verifier: testVerifier},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, Options{Clients: []Client{testClient("app", AuthBasic, tc.mode)}})
			extra := url.Values{}
			if tc.challenge != "" {
				extra.Set("code_challenge", tc.challenge)
			}
			if tc.method != "" {
				extra.Set("code_challenge_method", tc.method)
			}
			target, err := Login(t.Context(), nil, authRequestURL(s, "app", extra), "alice", "alice-pw")
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			q := target.Query()
			if got := q.Get("error"); got != tc.authErr {
				t.Fatalf("authorize error = %q (%s), want %q", got, q.Get("error_description"), tc.authErr)
			}
			if tc.authErr != "" {
				if q.Get("state") != "st-123" || q.Get("iss") != s.Issuer() || q.Get("code") != "" {
					t.Errorf("error redirect query = %v", q)
				}
				return
			}
			form := url.Values{"code": {q.Get("code")}}
			if tc.verifier != "" {
				form.Set("code_verifier", tc.verifier)
			}
			res := exchange(t, s, "app", testSecret, AuthBasic, form)
			if got := res.str("error"); got != tc.tokenErr {
				t.Fatalf("token error = %q (%s), want %q", got, res.str("error_description"), tc.tokenErr)
			}
			if wantStatus := map[bool]int{true: 200, false: 400}[tc.tokenErr == ""]; res.status != wantStatus {
				t.Errorf("token status %d, want %d", res.status, wantStatus)
			}
		})
	}
}
