package main

import (
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/sso"
)

func TestPolicyEvalExplain(t *testing.T) {
	dir := testdata("policy", "directory.json")
	for _, tc := range []struct {
		name  string
		env   []string
		input string
		want  []string // lines after the JSON, in order
	}{
		{"allow", []string{config.VarName("groups__enabled", false) + "=true"},
			`{"identity": {"email": "boss@example.com", "groups": ["ML Team"]}, "user": null}`,
			[]string{
				"allowed: a new user signs up into company c1; role admin; groups ML Team",
				"  signup:whitelist_email  " + sso.Sentence(sso.ReasonSignupWhitelistEmail),
				"  role:whitelist_admin    " + sso.Sentence(sso.ReasonRoleWhitelistAdmin),
				"  groups:synced           " + sso.Sentence(sso.ReasonGroupsSynced),
			}},
		{"built-in deny", nil,
			`{"identity": {"email": "attacker@evil.com@example.com"}, "user": null}`,
			[]string{"denied", "  deny:invalid_email  " + sso.Sentence(sso.ReasonInvalidEmail)}},
		{"extension deny", append(withPolicyDir(testdata("extend", "trial")), config.VarName("default_company", true)+"=c1"),
			`{"identity": {"email": "pat@contractor.example"}, "user": null}`,
			[]string{"denied", "  deny:contractor  Sign-ups from contractor.example are closed. Ask your ClearML admin. (the operator's message)"}},
		{"extension role", withPolicyDir(testdata("extend", "trial")),
			`{"identity": {"email": "lee@example.com", "groups": ["Team Leads"]}, "user": {"id": "u1", "company": "c1", "role": "user"}}`,
			[]string{
				"allowed: signs in to company c1; role admin; groups unchanged",
				"  login:existing_user  " + sso.Sentence(sso.ReasonExistingUser),
				"  role:team_lead       " + sso.Sentence("role:team_lead"),
				"  groups:disabled      " + sso.Sentence(sso.ReasonGroupsDisabled),
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			input := writeTempFile(t, "input.json", tc.input)
			code, stdout, stderr := cli(t, tc.env, "", "policy", "eval", "--input", input, "--directory", dir, "--explain")
			if code != 0 {
				t.Fatalf("exit %d, %s", code, stderr)
			}
			_, explained, ok := strings.Cut(stdout, "}\n\n")
			if !ok {
				t.Fatalf("no explanation after the JSON:\n%s", stdout)
			}
			if got := strings.Split(strings.TrimSuffix(explained, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("explanation\n%s\nwant\n%s", explained, strings.Join(tc.want, "\n"))
			}
		})
	}
}
