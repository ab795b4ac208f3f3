package ping

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/plugin"
)

func validConfig() config.Config {
	c := config.Default()
	c.AuthorizeURL = "https://auth.pingone.com/env/as/authorize"
	c.AccessTokenURL = "https://auth.pingone.com/env/as/token"
	c.ClientID, c.ClientSecret = testClientID, testSecret
	return c
}

func TestNewValidation(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mutate   func(*config.Config)
		variable string // "" means valid
	}{
		{"valid", func(*config.Config) {}, ""},
		{"loopback-http", func(c *config.Config) { c.AuthorizeURL = "http://127.0.0.1:9031/as/authorization.oauth2" }, ""},
		{"missing-authorize", func(c *config.Config) { c.AuthorizeURL = "" }, EnvName("authorize_url")},
		{"missing-token", func(c *config.Config) { c.AccessTokenURL = "" }, EnvName("access_token_url")},
		{"relative-token", func(c *config.Config) { c.AccessTokenURL = "/as/token" }, EnvName("access_token_url")},
		{"plain-http", func(c *config.Config) { c.AuthorizeURL = "http://auth.example.com/as/authorize" }, EnvName("authorize_url")},
		{"bad-issuer", func(c *config.Config) { c.Issuer = "ftp://x" }, EnvName("issuer")},
		{"bad-jwks", func(c *config.Config) { c.JWKSURL = "jwks" }, EnvName("jwks_url")},
		{"missing-client-id", func(c *config.Config) { c.ClientID = "" }, SecureEnvName("client_id")},
		{"missing-secret", func(c *config.Config) { c.ClientSecret = "" }, SecureEnvName("client_secret")},
		{"bad-pkce-method", func(c *config.Config) { c.CodeChallengeMethod = "S512" }, EnvName("code_challenge_method")},
		{"bad-auth-method", func(c *config.Config) { c.TokenEndpointAuthMethod = "private_key_jwt" }, EnvName("token_endpoint_auth_method")},
		{"scopes-without-openid", func(c *config.Config) { c.Scopes = []string{"profile"} }, EnvName("scopes")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.mutate(&c)
			_, err := New(context.Background(), Options{Config: &c})
			if tc.variable == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Variable != tc.variable || !strings.Contains(err.Error(), tc.variable) {
				t.Fatalf("New error %v, want one naming %s", err, tc.variable)
			}
		})
	}
	if _, err := New(context.Background(), Options{}); err == nil {
		t.Fatal("New without Config succeeded")
	}
}

func TestEnvNames(t *testing.T) {
	if got := EnvName("issuer"); got != "CLEARML__services__login__sso__oauth_client__ping__issuer" {
		t.Errorf("EnvName = %s", got)
	}
	if got := SecureEnvName("client_secret"); got != "CLEARML__secure__login__sso__oauth_client__ping__client_secret" {
		t.Errorf("SecureEnvName = %s", got)
	}
}

func TestBeginInputs(t *testing.T) {
	e := newTestEnv(t, envOpts{})
	for _, tc := range []struct {
		redirect, returnTo string
		ok                 bool
	}{
		{testRedirect, "", true},
		{testRedirect, "/projects/1?x=y#frag", true},
		{"/callback", "/", false},
		{"javascript:alert(1)", "/", false},
		{testRedirect + "#f", "/", false},
		{testRedirect, "https://evil.example/", false},
		{testRedirect, "//evil.example/", false},
		{testRedirect, "/\\evil.example", false},
		{testRedirect, "relative", false},
		{testRedirect, "/a\r\nSet-Cookie: x", false},
	} {
		_, _, err := e.rp.Begin(context.Background(), tc.redirect, tc.returnTo)
		if tc.ok != (err == nil) {
			t.Errorf("Begin(%q, %q) = %v, want ok=%v", tc.redirect, tc.returnTo, err, tc.ok)
		}
		if le, isLE := err.(*plugin.LoginError); err != nil && (!isLE || le.Kind != plugin.KindInvalidInput) {
			t.Errorf("Begin(%q, %q) error %#v, want invalid input", tc.redirect, tc.returnTo, err)
		}
	}
}

func TestBeginAuthorizeURL(t *testing.T) {
	for _, method := range []string{"", "S256", "plain"} {
		t.Run("pkce-"+method, func(t *testing.T) {
			e := newTestEnv(t, envOpts{mutate: func(c *cfgT, _ *pingemuServer) {
				c.CodeChallenge, c.CodeChallengeMethod = method != "", method
			}})
			authURL, sealed, err := e.rp.Begin(context.Background(), testRedirect, "/")
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(authURL)
			q := u.Query()
			st, err := e.rp.sealer.open(sealed, testRedirect)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(authURL, e.emu.AuthorizeURL()+"?") || q.Get("response_type") != "code" ||
				q.Get("client_id") != testClientID || q.Get("redirect_uri") != testRedirect ||
				q.Get("scope") != "openid profile email" || q.Get("state") != st.State || q.Get("nonce") != st.Nonce {
				t.Fatalf("authorize URL %s does not match the sealed state %+v", authURL, st)
			}
			if len(st.State) < 20 || len(st.Nonce) < 20 || st.State == st.Nonce {
				t.Fatalf("weak state/nonce %q %q", st.State, st.Nonce)
			}
			switch method {
			case "":
				if q.Has("code_challenge") || st.Verifier != "" {
					t.Fatal("PKCE sent while off")
				}
			case "plain":
				if q.Get("code_challenge") != st.Verifier || q.Get("code_challenge_method") != "plain" {
					t.Fatalf("plain challenge %q", q.Get("code_challenge"))
				}
			default:
				if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == st.Verifier || len(st.Verifier) < 43 {
					t.Fatalf("S256 challenge %q verifier %q", q.Get("code_challenge"), st.Verifier)
				}
			}
		})
	}
}
