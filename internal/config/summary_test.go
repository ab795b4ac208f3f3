package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSummary(t *testing.T) {
	c, _ := mustLoad(t, minimalEnv(nil,
		svc+"groups__enabled=true",
		svc+`groups__admins=["ML Admins", ops]`,
		sec+"default_company=c1",
	))
	got := c.Summary()
	want := map[string]string{
		"authorize_url":         "https://auth.pingone.com/env1/as/authorize",
		"access_token_url":      "https://auth.pingone.com/env1/as/token",
		"code_challenge":        "false",
		"code_challenge_method": "S256",
		"debug":                 "false",
		"groups.enabled":        "true",
		"groups.claim":          "groups",
		"groups.case_sensitive": "true",
		"groups.admins":         `["ML Admins", "ops"]`,
		"groups.prohibit_user_signup_if_not_in_group": "false",
		"groups.from_dn":             "false",
		"issuer":                     "",
		"jwks_url":                   "",
		"userinfo_url":               "",
		"scopes":                     `["openid", "profile", "email"]`,
		"claims.user_id":             "sub",
		"claims.email":               "email",
		"claims.name":                "name",
		"require_verified_email":     "false",
		"token_endpoint_auth_method": "",
		"policy.dir":                 "",
		"policy.insecure_builtins":   "[]",
		"policy.bundle":              "",
		"policy.bundle_public_key":   "",
		"policy.bundle_cache":        "",
		"decision_log.console":       "false",
		"decision_log.file":          "",
		"decision_log.url":           "",
		"decision_log.server_id":     "",
		"client_id":                  "my-client",
		"client_secret":              "****",
		"default_company":            "c1",
	}
	for k, w := range want {
		t.Run(k, func(t *testing.T) {
			if g, ok := got[k]; !ok || g != w {
				t.Fatalf("Summary()[%q] = %q (present %v), want %q", k, g, ok, w)
			}
		})
	}
	if len(got) != len(want) {
		t.Errorf("Summary has %d keys, want %d: %v", len(got), len(want), got)
	}
	t.Run("unset secret", func(t *testing.T) {
		var empty Config
		if s := empty.Summary()["client_secret"]; s != "" {
			t.Fatalf("unset client_secret shows %q, want empty", s)
		}
	})
	t.Run("secret length not shown", func(t *testing.T) {
		long := *c
		long.ClientSecret = strings.Repeat("x", 100)
		if long.Summary()["client_secret"] != got["client_secret"] {
			t.Fatal("the masked secret depends on the secret")
		}
	})
}

func TestValidate(t *testing.T) {
	valid := func() Config {
		c := Default()
		c.AuthorizeURL = "https://auth.pingone.com/e/as/authorize"
		c.AccessTokenURL = "https://auth.pingone.com/e/as/token"
		c.ClientID = "id"
		c.ClientSecret = testSecret
		return c
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   map[string]string // canonical variable -> part of its message
	}{
		{"valid", func(*Config) {}, nil},
		{"loopback http", func(c *Config) {
			c.AuthorizeURL = "http://localhost:9031/as/authorization.oauth2"
			c.AccessTokenURL = "http://127.0.0.1:9031/as/token.oauth2"
			c.JWKSURL = "http://[::1]:9031/pf/JWKS"
		}, nil},
		{"Default alone", func(c *Config) { *c = Default() }, map[string]string{
			svc + "authorize_url":    "is required",
			svc + "access_token_url": "is required",
			sec + "client_id":        "is required",
			sec + "client_secret":    "is required",
		}},
		{"methods are not normalized", func(c *Config) {
			c.CodeChallengeMethod = "s256"
			c.TokenEndpointAuthMethod = "Client_Secret_Post"
		}, map[string]string{
			svc + "code_challenge_method":      "accepts S256 or plain",
			svc + "token_endpoint_auth_method": "accepts client_secret_basic or client_secret_post",
		}},
		{"empty claims", func(c *Config) {
			c.Groups.Claim = ""
			c.Claims = Claims{}
		}, map[string]string{
			svc + "groups__claim":   "non-empty",
			svc + "claims__user_id": "non-empty",
			svc + "claims__email":   "non-empty",
			svc + "claims__name":    "non-empty",
		}},
		{"nil scopes", func(c *Config) { c.Scopes = nil }, map[string]string{svc + "scopes": "must include openid"}},
		{"http remote issuer", func(c *Config) { c.Issuer = "http://ping.example.com" }, map[string]string{svc + "issuer": "https"}},
		{"blank admin", func(c *Config) { c.Groups.Admins = []string{" "} }, map[string]string{svc + "groups__admins": "non-empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.change(&c)
			err := c.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate() = %v, want *ValidationError", err)
			}
			got := map[string]string{}
			for _, p := range ve.Problems {
				got[p.Var] = p.Message
			}
			if !reflect.DeepEqual(keysOf(got), keysOf(tc.want)) {
				t.Fatalf("problems for %v, want %v", keysOf(got), keysOf(tc.want))
			}
			for v, w := range tc.want {
				if !strings.Contains(got[v], w) {
					t.Errorf("%s: %q does not mention %q", v, got[v], w)
				}
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Fatal("error shows the client secret")
			}
		})
	}
}

func keysOf(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}
