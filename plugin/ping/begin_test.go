package ping

import (
	"testing"

	"golang.org/x/oauth2"
)

// TestAuthorizeURLMatchesOAuth2 checks the authorize URL the relying party
// writes against the one x/oauth2 builds from the same login.
func TestAuthorizeURLMatchesOAuth2(t *testing.T) {
	for _, tc := range []struct {
		name, authorizeURL, method, verifier string
	}{
		{"no-pkce", "https://auth.pingone.com/env/as/authorize", "", ""},
		{"s256", "https://auth.pingone.com/env/as/authorize", "S256", oauth2.GenerateVerifier()},
		{"plain", "https://pf.example.com/as/authorization.oauth2", "plain", oauth2.GenerateVerifier()},
		{"query-in-url", "https://idp.example.com/as/authorize?tenant=a+b&x=1", "S256", oauth2.GenerateVerifier()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig()
			cfg.CodeChallenge, cfg.CodeChallengeMethod = tc.verifier != "", tc.method
			cfg.Scopes = []string{"openid", "profile", "email", "p1:read:user"}
			rp := newRP(t, Options{Config: &cfg})
			st := loginState{State: "st+/=", Nonce: "n&n", Verifier: tc.verifier, RedirectURI: "https://ml.example.com/callback_ping?a=1"}
			p := &provider{meta: Metadata{AuthorizeURL: tc.authorizeURL}}
			opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("nonce", st.Nonce)}
			switch tc.method {
			case "S256":
				opts = append(opts, oauth2.S256ChallengeOption(tc.verifier))
			case "plain":
				opts = append(opts, oauth2.SetAuthURLParam("code_challenge", tc.verifier), oauth2.SetAuthURLParam("code_challenge_method", "plain"))
			}
			want := (&oauth2.Config{ClientID: rp.cfg.ClientID, Endpoint: oauth2.Endpoint{AuthURL: tc.authorizeURL},
				RedirectURL: st.RedirectURI, Scopes: cfg.Scopes}).AuthCodeURL(st.State, opts...)
			if got := rp.authorizeURL(p, st); got != want {
				t.Errorf("authorize URL\n got %s\nwant %s", got, want)
			}
		})
	}
}
