package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	svc        = "CLEARML__services__login__sso__oauth_client__ping__"
	sec        = "CLEARML__secure__login__sso__oauth_client__ping__"
	testSecret = "Zq9-s3cr3t-vALUE"
)

// minimalEnv is a valid environment with only the required keys, plus
// unrelated variables Load must skip. Entries whose name is in drop are
// left out; extra entries are appended.
func minimalEnv(drop []string, extra ...string) []string {
	base := []string{
		"PATH=/usr/bin",
		"CLEARML__apiserver__port=8008",
		"CLEARML__services__login__sso__oauth_client__auth0__client_id=other",
		svc + "authorize_url=https://auth.pingone.com/env1/as/authorize",
		svc + "access_token_url=https://auth.pingone.com/env1/as/token",
		sec + "client_id=my-client",
		sec + "client_secret=" + testSecret,
	}
	var env []string
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, d := range drop {
			keep = keep && name != d
		}
		if keep {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func mustLoad(t *testing.T, env []string) (*Config, []Warning) {
	t.Helper()
	c, w, err := Load(env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c, w
}

func TestLoadDefaults(t *testing.T) {
	c, w := mustLoad(t, minimalEnv(nil))
	if len(w) != 0 {
		t.Errorf("warnings = %v, want none", w)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"authorize_url", c.AuthorizeURL, "https://auth.pingone.com/env1/as/authorize"},
		{"access_token_url", c.AccessTokenURL, "https://auth.pingone.com/env1/as/token"},
		{"client_id", c.ClientID, "my-client"},
		{"client_secret", c.ClientSecret, testSecret},
		{"code_challenge", c.CodeChallenge, false},
		{"code_challenge_method", c.CodeChallengeMethod, "S256"},
		{"debug", c.Debug, false},
		{"groups__enabled", c.Groups.Enabled, false},
		{"groups__claim", c.Groups.Claim, "groups"},
		{"groups__case_sensitive", c.Groups.CaseSensitive, true},
		{"groups__admins", len(c.Groups.Admins), 0},
		{"groups__prohibit_user_signup_if_not_in_group", c.Groups.ProhibitUserSignupIfNotInGroup, false},
		{"groups__from_dn", c.Groups.FromDN, false},
		{"issuer", c.Issuer, ""},
		{"jwks_url", c.JWKSURL, ""},
		{"userinfo_url", c.UserinfoURL, ""},
		{"scopes", c.Scopes, []string{"openid", "profile", "email"}},
		{"claims__user_id", c.Claims.UserID, "sub"},
		{"claims__email", c.Claims.Email, "email"},
		{"claims__name", c.Claims.Name, "name"},
		{"require_verified_email", c.RequireVerifiedEmail, false},
		{"token_endpoint_auth_method", c.TokenEndpointAuthMethod, ""},
		{"policy__dir", c.PolicyDir, ""},
		{"policy__insecure_builtins", len(c.PolicyInsecureBuiltins), 0},
		{"default_company", c.DefaultCompany, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Fatalf("got %#v, want %#v", tc.got, tc.want)
			}
		})
	}
	t.Run("nothing else differs from Default", func(t *testing.T) {
		want := Default()
		want.AuthorizeURL, want.AccessTokenURL = c.AuthorizeURL, c.AccessTokenURL
		want.ClientID, want.ClientSecret = c.ClientID, c.ClientSecret
		if !reflect.DeepEqual(*c, want) {
			t.Fatalf("config = %+v, want %+v", *c, want)
		}
	})
	t.Run("Default is a fresh copy", func(t *testing.T) {
		c.Scopes[0] = "changed"
		if Default().Scopes[0] != "openid" {
			t.Fatal("changing a loaded config changed Default")
		}
	})
}

func TestLoadEachVariable(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		env  string
		got  func(*Config) any
		want any
	}{
		{svc + "authorize_url=https://ping.example.com/as/authorization.oauth2", func(c *Config) any { return c.AuthorizeURL }, "https://ping.example.com/as/authorization.oauth2"},
		{svc + "access_token_url=\"http://localhost:9031/as/token.oauth2\"", func(c *Config) any { return c.AccessTokenURL }, "http://localhost:9031/as/token.oauth2"},
		{svc + "code_challenge=true", func(c *Config) any { return c.CodeChallenge }, true},
		{svc + "code_challenge_method=plain", func(c *Config) any { return c.CodeChallengeMethod }, "plain"},
		{svc + "code_challenge_method=s256", func(c *Config) any { return c.CodeChallengeMethod }, "S256"},
		{svc + "debug=yes", func(c *Config) any { return c.Debug }, true},
		{svc + "groups__enabled=on", func(c *Config) any { return c.Groups.Enabled }, true},
		{svc + "groups__claim=memberOf", func(c *Config) any { return c.Groups.Claim }, "memberOf"},
		{svc + "groups__case_sensitive=false", func(c *Config) any { return c.Groups.CaseSensitive }, false},
		{svc + "groups__case_sensitive=\"off\"", func(c *Config) any { return c.Groups.CaseSensitive }, false},
		{svc + "groups__admins=[\"ML Admins\", ops]", func(c *Config) any { return c.Groups.Admins }, []string{"ML Admins", "ops"}},
		{svc + "groups__prohibit_user_signup_if_not_in_group=TRUE", func(c *Config) any { return c.Groups.ProhibitUserSignupIfNotInGroup }, true},
		{svc + "groups__from_dn=true", func(c *Config) any { return c.Groups.FromDN }, true},
		{svc + "issuer=https://auth.pingone.com/env1/as", func(c *Config) any { return c.Issuer }, "https://auth.pingone.com/env1/as"},
		{svc + "jwks_url=https://auth.pingone.com/env1/as/jwks", func(c *Config) any { return c.JWKSURL }, "https://auth.pingone.com/env1/as/jwks"},
		{svc + "userinfo_url=https://auth.pingone.com/env1/as/userinfo", func(c *Config) any { return c.UserinfoURL }, "https://auth.pingone.com/env1/as/userinfo"},
		{svc + "scopes=[openid, email, groups]", func(c *Config) any { return c.Scopes }, []string{"openid", "email", "groups"}},
		{svc + "claims__user_id=preferred_username", func(c *Config) any { return c.Claims.UserID }, "preferred_username"},
		{svc + "claims__email=mail", func(c *Config) any { return c.Claims.Email }, "mail"},
		{svc + "claims__name=\"given_name\"", func(c *Config) any { return c.Claims.Name }, "given_name"},
		{svc + "require_verified_email=true", func(c *Config) any { return c.RequireVerifiedEmail }, true},
		{svc + "token_endpoint_auth_method=client_secret_post", func(c *Config) any { return c.TokenEndpointAuthMethod }, "client_secret_post"},
		{svc + "token_endpoint_auth_method=CLIENT_SECRET_BASIC", func(c *Config) any { return c.TokenEndpointAuthMethod }, "client_secret_basic"},
		{svc + "policy__dir=" + dir, func(c *Config) any { return c.PolicyDir }, dir},
		{svc + "policy__insecure_builtins=[http.send, net.lookup_ip_addr]", func(c *Config) any { return c.PolicyInsecureBuiltins }, []string{"http.send", "net.lookup_ip_addr"}},
		{sec + "default_company=\"d1b2c3\"", func(c *Config) any { return c.DefaultCompany }, "d1b2c3"},
		{sec + "default_company=12345", func(c *Config) any { return c.DefaultCompany }, "12345"},
		{"clearml__SERVICES__LOGIN__SSO__OAUTH_CLIENT__PING__GROUPS__ENABLED=true", func(c *Config) any { return c.Groups.Enabled }, true},
		{svc + "debug=null", func(c *Config) any { return c.Debug }, false},
		{svc + "issuer=", func(c *Config) any { return c.Issuer }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			name, _, _ := strings.Cut(tc.env, "=")
			env := minimalEnv([]string{name}, tc.env)
			if strings.Contains(name, "__groups__") && !strings.HasSuffix(name, "__enabled") {
				env = append(env, svc+"groups__enabled=true") // no warning about groups being off
			}
			c, w := mustLoad(t, env)
			if len(w) != 0 {
				t.Errorf("warnings = %v, want none", w)
			}
			if got := tc.got(c); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestLoadQuotedSubstitution(t *testing.T) {
	t.Run("quoted is literal", func(t *testing.T) {
		c, _ := mustLoad(t, minimalEnv([]string{sec + "client_secret"}, sec+`client_secret="${PING_SECRET}"`))
		if c.ClientSecret != "${PING_SECRET}" {
			t.Fatalf("client secret = %q, want the text inside the quotes", c.ClientSecret)
		}
	})
	t.Run("unquoted is refused", func(t *testing.T) {
		_, _, err := Load(minimalEnv([]string{svc + "groups__claim"}, svc+"groups__claim=${CLAIM}"))
		wantProblem(t, err, svc+"groups__claim", "substitutions", "quote the value")
	})
}

func TestLoadLists(t *testing.T) {
	tests := []struct {
		env  string
		got  func(*Config) []string
		want []string
	}{
		{svc + `groups__admins=["a", "b"]`, admins, []string{"a", "b"}},
		{svc + `groups__admins=[a, b]`, admins, []string{"a", "b"}},
		{svc + `groups__admins=[a, "b",]`, admins, []string{"a", "b"}},
		{svc + `groups__admins=[]`, admins, []string{}},
		{svc + `groups__admins=ML Admins`, admins, []string{"ML Admins"}},
		{svc + `groups__admins="ML Admins"`, admins, []string{"ML Admins"}},
		{svc + `groups__admins=`, admins, []string{}},
		{svc + `groups__admins=[42]`, admins, []string{"42"}},
		{svc + `scopes=openid profile`, scopes, []string{"openid", "profile"}},
		{svc + `scopes="openid  email groups"`, scopes, []string{"openid", "email", "groups"}},
		{svc + `scopes=openid`, scopes, []string{"openid"}},
		{svc + `scopes=["openid","profile"]`, scopes, []string{"openid", "profile"}},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			c, _ := mustLoad(t, minimalEnv(nil, tc.env))
			if got := tc.got(c); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func admins(c *Config) []string { return c.Groups.Admins }
func scopes(c *Config) []string { return c.Scopes }

// wantProblem checks that err is a *ValidationError with a problem for
// variable v whose message contains every one of want.
func wantProblem(t *testing.T, err error, v string, want ...string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v (%T), want *ValidationError", err, err)
	}
	for _, p := range ve.Problems {
		if p.Var != v {
			continue
		}
		for _, w := range want {
			if !strings.Contains(p.Message, w) {
				t.Fatalf("problem %q does not mention %q", p, w)
			}
		}
		if !strings.Contains(err.Error(), "\n"+v+": ") {
			t.Fatalf("Error() does not list %s on its own line:\n%s", v, err)
		}
		return
	}
	t.Fatalf("no problem for %s in:\n%v", v, err)
}

func TestLoadProblems(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file.rego")
	if err := os.WriteFile(file, []byte("package x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		drop    []string
		extra   []string
		wantVar string
		want    []string
	}{
		{"missing authorize_url", []string{svc + "authorize_url"}, nil, svc + "authorize_url", []string{"is required"}},
		{"missing access_token_url", []string{svc + "access_token_url"}, nil, svc + "access_token_url", []string{"is required"}},
		{"missing client_id", []string{sec + "client_id"}, nil, sec + "client_id", []string{"is required"}},
		{"missing client_secret", []string{sec + "client_secret"}, nil, sec + "client_secret", []string{"is required"}},
		{"null client_id", []string{sec + "client_id"}, []string{sec + "client_id=null"}, sec + "client_id", []string{"is required"}},
		{"empty client_id", []string{sec + "client_id"}, []string{sec + `client_id=""`}, sec + "client_id", []string{"is required"}},
		{"relative URL", []string{svc + "authorize_url"}, []string{svc + "authorize_url=/as/authorize"}, svc + "authorize_url", []string{"absolute https URL"}},
		{"URL without host", []string{svc + "access_token_url"}, []string{svc + "access_token_url=https:///as/token"}, svc + "access_token_url", []string{"with a host"}},
		{"plain http to a remote host", []string{svc + "access_token_url"}, []string{svc + "access_token_url=http://auth.pingone.com/x/as/token"}, svc + "access_token_url", []string{"must use https", "localhost, 127.0.0.1 or [::1]"}},
		{"ftp URL", nil, []string{svc + "issuer=ftp://example.com/"}, svc + "issuer", []string{"https", `"ftp"`}},
		{"URL with credentials", nil, []string{svc + `jwks_url="https://u:p@example.com/jwks"`}, svc + "jwks_url", []string{"user name or password"}},
		{"URL with fragment", nil, []string{svc + `userinfo_url="https://example.com/ui#x"`}, svc + "userinfo_url", []string{"fragment"}},
		{"issuer with query", nil, []string{svc + `issuer="https://example.com/as?x=1"`}, svc + "issuer", []string{"query"}},
		{"bad boolean", nil, []string{svc + "groups__enabled=maybe"}, svc + "groups__enabled", []string{"accepts true or false", `"maybe"`}},
		{"number as boolean", nil, []string{svc + "debug=1"}, svc + "debug", []string{"accepts true or false"}},
		{"list as boolean", nil, []string{svc + "code_challenge=[true]"}, svc + "code_challenge", []string{"accepts true or false", "a list"}},
		{"empty boolean", nil, []string{svc + "groups__from_dn="}, svc + "groups__from_dn", []string{"accepts true or false"}},
		{"bad PKCE method", nil, []string{svc + "code_challenge_method=S512"}, svc + "code_challenge_method", []string{"accepts S256 or plain", `"S512"`}},
		{"empty PKCE method", nil, []string{svc + `code_challenge_method=""`}, svc + "code_challenge_method", []string{"accepts S256 or plain"}},
		{"bad auth method", nil, []string{svc + "token_endpoint_auth_method=private_key_jwt"}, svc + "token_endpoint_auth_method", []string{"accepts client_secret_basic or client_secret_post"}},
		{"empty groups claim", nil, []string{svc + `groups__claim=""`}, svc + "groups__claim", []string{"non-empty string"}},
		{"list groups claim", nil, []string{svc + `groups__claim=[a]`}, svc + "groups__claim", []string{"must be a string", "a list"}},
		{"boolean claim name", nil, []string{svc + `claims__email=true`}, svc + "claims__email", []string{"must be a string", "a boolean", "quote"}},
		{"blank user_id claim", nil, []string{svc + `claims__user_id="  "`}, svc + "claims__user_id", []string{"non-empty string"}},
		{"empty name claim", nil, []string{svc + `claims__name=""`}, svc + "claims__name", []string{"non-empty string"}},
		{"scopes without openid", nil, []string{svc + "scopes=[profile, email]"}, svc + "scopes", []string{"must include openid"}},
		{"empty scopes", nil, []string{svc + "scopes=[]"}, svc + "scopes", []string{"must include openid"}},
		{"scope with a space", nil, []string{svc + `scopes=["openid profile"]`}, svc + "scopes", []string{"not a valid OAuth scope"}},
		{"scopes as boolean", nil, []string{svc + "scopes=true"}, svc + "scopes", []string{"list of strings"}},
		{"missing policy dir", nil, []string{svc + "policy__dir=/nonexistent/pingauthz-policies"}, svc + "policy__dir", []string{"existing directory", "does not exist"}},
		{"policy dir is a file", nil, []string{svc + "policy__dir=" + file}, svc + "policy__dir", []string{"existing directory", "not a directory"}},
		{"bad builtin name", nil, []string{svc + `policy__insecure_builtins=["http send"]`}, svc + "policy__insecure_builtins", []string{"builtin names", `"http send"`}},
		{"empty admin group", nil, []string{svc + `groups__admins=["ML", ""]`}, svc + "groups__admins", []string{"non-empty group names", "element 2"}},
		{"boolean admin group", nil, []string{svc + `groups__admins=[ops, true]`}, svc + "groups__admins", []string{"element 2", "a boolean"}},
		{"null admin group", nil, []string{svc + `groups__admins=[null]`}, svc + "groups__admins", []string{"element 1", "null"}},
		{"nested list", nil, []string{svc + `groups__admins=[[a]]`}, svc + "groups__admins", []string{"nested lists", "column 2"}},
		{"syntax error names the column", nil, []string{svc + `groups__claim="abc`}, svc + "groups__claim", []string{"not a valid HOCON value", "column 1", "not closed"}},
		{"object value", nil, []string{svc + `groups={enabled: true}`}, svc + "groups", []string{"as a whole", "groups__enabled"}},
		{"whole section", nil, []string{strings.TrimSuffix(svc, "__") + `={authorize_url: x}`}, strings.TrimSuffix(svc, "__"), []string{"whole provider section"}},
		{"the name as written", nil, []string{"CLEARML__Services__Login__SSO__OAuth_Client__Ping__Debug=perhaps"}, "CLEARML__Services__Login__SSO__OAuth_Client__Ping__Debug", []string{"accepts true or false"}},
		{"conflicting duplicates", nil, []string{svc + "debug=true", strings.ToUpper(svc) + "DEBUG=false"}, strings.ToUpper(svc) + "DEBUG", []string{"same key as " + svc + "debug", "different values"}},
		{"secret in wrong section", []string{sec + "client_secret"}, []string{svc + "client_secret=" + testSecret}, sec + "client_secret", []string{"is required", svc + "client_secret", "services section"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := Load(minimalEnv(tc.drop, tc.extra...))
			if c != nil {
				t.Errorf("Load returned a config with an error")
			}
			wantProblem(t, err, tc.wantVar, tc.want...)
			if strings.Contains(err.Error(), testSecret) {
				t.Fatalf("error shows the client secret:\n%v", err)
			}
		})
	}
}

func TestLoadCollectsEveryProblem(t *testing.T) {
	env := []string{
		svc + "authorize_url=http://ping.example.com/authorize",
		svc + "groups__enabled=maybe",
		svc + "code_challenge_method=S512",
		svc + "scopes=profile",
		sec + "client_secret=" + testSecret,
	}
	_, _, err := Load(env)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v, want *ValidationError", err)
	}
	wantVars := []string{
		sec + "client_id",
		svc + "access_token_url",
		svc + "authorize_url",
		svc + "code_challenge_method",
		svc + "groups__enabled",
		svc + "scopes",
	}
	var got []string
	for _, p := range ve.Problems {
		got = append(got, p.Var)
	}
	if !reflect.DeepEqual(got, wantVars) {
		t.Fatalf("problems for %v, want %v (sorted)\n%v", got, wantVars, err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(wantVars)+1 || !strings.HasPrefix(lines[0], "config: ") {
		t.Fatalf("Error() is not a header plus one line per problem:\n%s", err)
	}
	for i, v := range wantVars {
		if !strings.HasPrefix(lines[i+1], v+": ") {
			t.Errorf("line %d = %q, want it to start with %s", i+1, lines[i+1], v)
		}
	}
}

func TestLoadWarnings(t *testing.T) {
	tests := []struct {
		name    string
		drop    []string
		extra   string
		wantVar string
		want    []string
	}{
		{"typo", nil, svc + "groups__case_sensitve=false", svc + "groups__case_sensitve", []string{"did you mean groups__case_sensitive", svc + "groups__case_sensitive"}},
		{"single underscore", nil, svc + "groups_enabled=true", svc + "groups_enabled", []string{"did you mean groups__enabled"}},
		{"last segment only", nil, svc + "admins=[a]", svc + "admins", []string{"did you mean groups__admins"}},
		{"typo of a secure key", nil, sec + "client_idd=x", sec + "client_idd", []string{"did you mean client_id", sec + "client_id"}},
		{"nothing close", nil, svc + "frobnicate=1", svc + "frobnicate", []string{"unknown key", "known keys:", "authorize_url"}},
		{"client_id under services", []string{sec + "client_id"}, svc + "client_id=my-client", svc + "client_id", []string{"secure section", sec + "client_id"}},
		{"authorize_url under secure", nil, sec + "authorize_url=https://x.example.com/", sec + "authorize_url", []string{"services section", svc + "authorize_url"}},
		{"provider variant", nil, "CLEARML__services__login__sso__oauth_client__pingone__debug=true", "CLEARML__services__login__sso__oauth_client__pingone__debug", []string{`provider "pingone"`, "did you mean"}},
		{"same value twice", nil, strings.ToUpper(sec) + "CLIENT_ID=my-client", strings.ToUpper(sec) + "CLIENT_ID", []string{"same key as " + sec + "client_id", "same value"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, warns, err := Load(minimalEnv(tc.drop, tc.extra))
			if err != nil && tc.drop == nil {
				t.Fatalf("Load: %v", err)
			}
			for _, w := range warns {
				if w.Var != tc.wantVar {
					continue
				}
				for _, s := range tc.want {
					if !strings.Contains(w.Message, s) {
						t.Fatalf("warning %q does not mention %q", w, s)
					}
				}
				return
			}
			t.Fatalf("no warning for %s in %v", tc.wantVar, warns)
		})
	}
	t.Run("other providers are not read", func(t *testing.T) {
		_, warns := mustLoad(t, minimalEnv(nil))
		if len(warns) != 0 {
			t.Fatalf("warnings = %v, want none for other providers and sections", warns)
		}
	})
}

func TestSecretNeverShown(t *testing.T) {
	envs := map[string][]string{
		"valid":              minimalEnv(nil),
		"other problems":     minimalEnv([]string{svc + "authorize_url"}, svc+"debug=maybe"),
		"secret unparseable": minimalEnv([]string{sec + "client_secret"}, sec+"client_secret=ab!"+testSecret),
		"secret quoted badly": minimalEnv([]string{sec + "client_secret"},
			sec+`client_secret="`+testSecret),
		"secret as list":      minimalEnv([]string{sec + "client_secret"}, sec+"client_secret=["+testSecret+"]"),
		"secret twice":        minimalEnv(nil, strings.ToUpper(sec)+"CLIENT_SECRET=other-"+testSecret),
		"secret misplaced":    minimalEnv([]string{sec + "client_secret"}, svc+"client_secret="+testSecret),
		"secret misspelled":   minimalEnv(nil, sec+"client_secrett="+testSecret),
		"secret in other URL": minimalEnv(nil, svc+`issuer="https://x:`+testSecret+`@example.com/"`),
	}
	for name, env := range envs {
		t.Run(name, func(t *testing.T) {
			c, warns, err := Load(env)
			var texts []string
			if err != nil {
				texts = append(texts, err.Error())
				if strings.Contains(err.Error(), "column") && strings.Contains(name, "secret ") && !strings.Contains(name, "other URL") {
					t.Errorf("error about the secret gives a column: %v", err)
				}
			}
			for _, w := range warns {
				texts = append(texts, w.String())
			}
			if c != nil {
				for k, v := range c.Summary() {
					texts = append(texts, k+"="+v)
				}
				if got := c.Summary()["client_secret"]; got != "****" {
					t.Errorf(`Summary()["client_secret"] = %q, want "****"`, got)
				}
			}
			for _, s := range texts {
				if strings.Contains(s, testSecret) {
					t.Fatalf("the client secret appears in %q", s)
				}
			}
		})
	}
}

func TestVarName(t *testing.T) {
	tests := []struct {
		key    string
		secure bool
		want   string
	}{
		{"groups__enabled", false, "CLEARML__services__login__sso__oauth_client__ping__groups__enabled"},
		{"groups.admins", false, "CLEARML__services__login__sso__oauth_client__ping__groups__admins"},
		{"client_secret", true, "CLEARML__secure__login__sso__oauth_client__ping__client_secret"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := VarName(tc.key, tc.secure); got != tc.want {
				t.Fatalf("VarName(%q, %v) = %q, want %q", tc.key, tc.secure, got, tc.want)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	for _, kv := range minimalEnv(nil) {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
	t.Setenv(svc+"groups__enabled", "true")
	c, _, err := FromEnv()
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	if !c.Groups.Enabled || c.ClientID != "my-client" {
		t.Fatalf("FromEnv did not read the environment: %+v", c.Summary())
	}
}
