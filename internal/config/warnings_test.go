package config

import (
	"strings"
	"testing"
)

func TestLoadValueAndPathWarnings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		extra   []string
		wantVar string
		want    []string // substrings of its warning; nil: no warning for it
	}{
		{"single-quoted list element", []string{svc + "groups__enabled=true", svc + "groups__admins=['ClearML-Admins']"},
			svc + "groups__admins", []string{"element 1 starts and ends with a single quote", `did you mean ["ClearML-Admins"]?`}},
		{"single-quoted string", []string{svc + "groups__claim='memberOf'"},
			svc + "groups__claim", []string{"the value starts and ends with a single quote", `did you mean "memberOf"?`}},
		{"single-quoted secret is not echoed", []string{sec + "client_secret='" + testSecret + "'"},
			sec + "client_secret", []string{"single quote"}},
		{"quoted substitution", []string{sec + `default_company="${COMPANY_ID}"`},
			sec + "default_company", []string{"${...}, which is not expanded"}},
		{"admins while groups are off", []string{svc + "groups__admins=[Admins]"},
			svc + "groups__admins", []string{"has no effect while groups are disabled", svc + "groups__enabled=true"}},
		{"prohibit while groups are off", []string{svc + "groups__prohibit_user_signup_if_not_in_group=true"},
			svc + "groups__prohibit_user_signup_if_not_in_group", []string{"is on while groups are disabled"}},
		{"admins with groups on", []string{svc + "groups__enabled=true", svc + "groups__admins=[Admins]"}, svc + "groups__admins", nil},
		{"prohibit off", []string{svc + "groups__prohibit_user_signup_if_not_in_group=false"}, svc + "groups__prohibit_user_signup_if_not_in_group", nil},
		{"typo in oauth_client", []string{"CLEARML__services__login__sso__oauth_clients__ping__groups__enabled=true"},
			"CLEARML__services__login__sso__oauth_clients__ping__groups__enabled",
			[]string{`"oauth_clients" is not "oauth_client"`, "did you mean " + svc + "groups__enabled?"}},
		{"typos in two segments", []string{"CLEARML__secure__logins__sso__oauth_client__pin__client_id=x"},
			"CLEARML__secure__logins__sso__oauth_client__pin__client_id",
			[]string{`"logins" is not "login"`, `provider "pin" is not "ping"`, "did you mean " + sec + "client_id?"}},
		{"another provider", []string{"CLEARML__services__login__sso__oauth_client__google__client_id=x"},
			"CLEARML__services__login__sso__oauth_client__google__client_id", nil},
		{"another service", []string{"CLEARML__services__apiserver__port=8008"}, "CLEARML__services__apiserver__port", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := minimalEnv(nil, tc.extra...)
			if strings.Contains(strings.Join(tc.extra, " "), "client_secret=") {
				env = minimalEnv([]string{sec + "client_secret"}, tc.extra...)
			}
			_, warns, err := Load(env)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range warns {
				if strings.Contains(w.Message, testSecret) {
					t.Errorf("warning shows the secret: %s", w)
				}
				if w.Var == tc.wantVar {
					got = append(got, w.Message)
				}
			}
			if tc.want == nil {
				if len(got) > 0 {
					t.Errorf("warnings %q, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("warnings for %s: %q (all: %v)", tc.wantVar, got, warns)
			}
			for _, w := range tc.want {
				if !strings.Contains(got[0], w) {
					t.Errorf("warning %q lacks %q", got[0], w)
				}
			}
		})
	}
}

func TestGroupsClaimPointer(t *testing.T) {
	for _, tc := range []struct {
		claim, want string
	}{
		{"groups", ""},
		{"memberOf~weird", ""}, // a claim name, not a pointer
		{"/realm_access/roles", ""},
		{"/a~1b/c~0d", ""},
		{"/groups~2x", `is not a valid JSON pointer: "/groups~2x" has a "~" at byte 8`},
		{"/groups~", "is not a valid JSON pointer"},
		{"", "must be a non-empty string"},
	} {
		_, _, err := Load(minimalEnv(nil, svc+`groups__claim="`+tc.claim+`"`))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.claim, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), svc+"groups__claim: ") || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want %q", tc.claim, err, tc.want)
		}
	}
}

func TestLoadPolicy(t *testing.T) {
	env := []string{
		svc + "groups__enabled=true",
		svc + "groups__admins=[Admins]",
		sec + "default_company=c1",
		// Not read: neither missing nor malformed values matter.
		svc + "authorize_url=not a url",
		svc + "scopes=[profile]",
		sec + "client_secret=[" + testSecret,
	}
	cfg, warns, err := LoadPolicy(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings %v", warns)
	}
	if !cfg.Groups.Enabled || cfg.Groups.Admins[0] != "Admins" || cfg.DefaultCompany != "c1" {
		t.Errorf("policy keys not read: %+v", cfg)
	}
	if cfg.AuthorizeURL != PlaceholderAuthorizeURL || cfg.AccessTokenURL != PlaceholderAccessTokenURL ||
		cfg.ClientID != PlaceholderClientID || cfg.ClientSecret != PlaceholderClientSecret {
		t.Errorf("placeholders %q %q %q %q", cfg.AuthorizeURL, cfg.AccessTokenURL, cfg.ClientID, cfg.ClientSecret)
	}
	if cfg.Scopes[0] != "openid" {
		t.Errorf("scopes read: %v", cfg.Scopes)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("the placeholders do not validate: %v", err)
	}

	_, _, err = LoadPolicy([]string{svc + "groups__enabled=maybe", svc + "policy__dir=/nonexistent/x"})
	for _, key := range []string{"groups__enabled", "policy__dir"} {
		if err == nil || !strings.Contains(err.Error(), svc+key+": ") {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
	if strings.Contains(err.Error(), "authorize_url") || strings.Contains(err.Error(), "client_secret") {
		t.Errorf("error asks for keys the policy does not need: %v", err)
	}
	_, warns, _ = LoadPolicy([]string{svc + "grups__enabled=true"})
	if len(warns) != 1 || !strings.Contains(warns[0].Message, "did you mean groups__enabled") {
		t.Errorf("typo warnings %v", warns)
	}
	want := []string{"groups__enabled", "groups__claim", "groups__case_sensitive", "groups__admins",
		"groups__prohibit_user_signup_if_not_in_group", "groups__from_dn", "require_verified_email",
		"policy__dir", "policy__insecure_builtins", "policy__bundle", "policy__bundle_public_key", "policy__bundle_cache",
		"default_company"}
	if got := PolicyKeys(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("PolicyKeys() = %v", got)
	}
}
