package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
)

func TestConfigCheckValid(t *testing.T) {
	env := append([]string{config.VarName("groups__enabled", false) + "=true",
		config.VarName("grups__claim", false) + "=x"}, baseEnv...)
	code, stdout, stderr := cli(t, env, "", "config", "check")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	for _, want := range []string{"client_secret = ****\n", "groups.enabled = true\n", "client_id = client-id\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout+stderr, "very-secret-value") {
		t.Error("the client secret was printed")
	}
	if !strings.Contains(stderr, "warning: "+config.VarName("grups__claim", false)) || !strings.Contains(stderr, "compiles") {
		t.Errorf("stderr lacks the warning or the policy line:\n%s", stderr)
	}

	code, stdout, _ = cli(t, baseEnv, "", "config", "check", "--json")
	var summary map[string]string
	if err := json.Unmarshal([]byte(stdout), &summary); code != 0 || err != nil || summary["client_secret"] != "****" {
		t.Errorf("--json: exit %d, %v, %v", code, err, summary)
	}
}

func TestConfigCheckInvalid(t *testing.T) {
	env := []string{
		config.VarName("groups__enabled", false) + "=maybe",
		config.VarName("client_secret", true) + "=s",
	}
	code, stdout, stderr := cli(t, env, "", "config", "check")
	if code != 2 || stdout != "" {
		t.Fatalf("exit %d, stdout %q", code, stdout)
	}
	for _, key := range []struct {
		name   string
		secure bool
	}{{"groups__enabled", false}, {"authorize_url", false}, {"access_token_url", false}, {"client_id", true}} {
		if !strings.Contains(stderr, config.VarName(key.name, key.secure)+": ") {
			t.Errorf("stderr does not name %s:\n%s", key.name, stderr)
		}
	}
	if !strings.Contains(stderr, "4 problems") {
		t.Errorf("stderr lacks the count:\n%s", stderr)
	}
}

func TestConfigCheckBadPolicy(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "overrides", "syntax_error"))
	env := append([]string{config.VarName("policy__dir", false) + "=" + dir}, baseEnv...)
	code, _, stderr := cli(t, env, "", "config", "check")
	if code != 2 || !strings.Contains(stderr, filepath.Join(dir, "decision.rego")+":") {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
}

func TestConfigCheckWithheldBuiltin(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "overrides", "runtime"))
	env := append([]string{config.VarName("policy__dir", false) + "=" + dir}, baseEnv...)
	code, _, stderr := cli(t, env, "", "config", "check")
	if code != 2 || !strings.Contains(stderr, filepath.Join(dir, "runtime.rego")+":5: rego_compile_error: opa.runtime is withheld") {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
	env = append(env, config.VarName("policy__insecure_builtins", false)+`=["opa.runtime"]`)
	if code, _, stderr := cli(t, env, "", "config", "check"); code != 0 {
		t.Errorf("opted in: exit %d, stderr %s", code, stderr)
	}
}

// TestConfigCheckPolicyProblems checks that config check refuses broken
// extensions and decisions of the wrong shape, naming file, line, rule and
// probe login, and reports a good set with its extension rules.
func TestConfigCheckPolicyProblems(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{"extend_syntax", []string{"extend.rego:7: rego_parse_error"}},
		{"extend_bad_code", []string{"extend.rego:4: rego_compile_error: extension rule admin: code \"role:Team-Leads\""}},
		{"extend_wrong_type", []string{"extend.rego:4: rego_compile_error: extension rule company: must be one company id"}},
		{"extend_wrong_shape", []string{"extend.rego:12: rego_compile_error: extension rule deny_sigup: is not an extension rule; did you mean deny_signup?"}},
		{"extend_probe_time", []string{`probe login "new user, whitelisted email, no groups": extension rule signup (`, "extend.rego:4)"}},
		{"missing_keys", []string{`probe login "new user, whitelisted email, no groups": decision has no "groups"`, "decision.rego:3"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			code, stdout, stderr := cli(t, withPolicyDir(testdata("overrides", tc.dir)), "", "config", "check")
			if code != 2 || stdout != "" {
				t.Fatalf("exit %d, stdout %q", code, stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	code, _, stderr := cli(t, withPolicyDir(testdata("extend", "trial")), "", "config", "check")
	if code != 0 || !strings.Contains(stderr, "passes 8 probe logins") || !strings.Contains(stderr, "extension rules: deny_signup, admin") {
		t.Errorf("trial: exit %d, %s", code, stderr)
	}
}

// TestConfigCheckWarnings checks the warnings for what the environment
// accepts silently but likely does not mean.
func TestConfigCheckWarnings(t *testing.T) {
	code, _, stderr := cli(t, readEnvFile(t, "warnings.env"), "", "config", "check")
	if code != 0 {
		t.Fatalf("exit %d, %s", code, stderr)
	}
	for _, want := range []string{
		config.VarName("groups__admins", false) + `: element 1 starts and ends with a single quote, which HOCON keeps as part of the text (only " quotes); did you mean ["ClearML-Admins"]?`,
		config.VarName("groups__admins", false) + ": has no effect while groups are disabled",
		config.VarName("groups__prohibit_user_signup_if_not_in_group", false) + ": is on while groups are disabled",
		config.VarName("default_company", true) + ": the value contains ${...}, which is not expanded",
		`oauth_clients__ping__debug: is not read: "oauth_clients" is not "oauth_client"; did you mean ` + config.VarName("debug", false) + "?",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if n := strings.Count(stderr, "warning:"); n != 5 {
		t.Errorf("%d warnings, want 5:\n%s", n, stderr)
	}
	bad := append([]string{config.VarName("groups__claim", false) + `="/groups~2"`}, baseEnv...)
	if code, _, stderr := cli(t, bad, "", "config", "check"); code != 2 || !strings.Contains(stderr, "not a valid JSON pointer") {
		t.Errorf("bad pointer: exit %d, %s", code, stderr)
	}
}

// TestServeChecksThePolicySet checks that serve refuses a broken policy set
// with the check's own message, before it looks for the plugin or listens.
func TestServeChecksThePolicySet(t *testing.T) {
	dir := testdata("overrides", "extend_bad_code")
	db := filepath.Join(t.TempDir(), "ml.db")
	code, _, stderr := cli(t, withPolicyDir(dir), "", "serve", "--db", db, "--listen", "127.0.0.1:0",
		"--plugin", filepath.Join(t.TempDir(), "no-such-plugin"))
	if code != 2 || !strings.Contains(stderr, filepath.Join(dir, "extend.rego")+":4: rego_compile_error: extension rule admin") {
		t.Errorf("exit %d, %s", code, stderr)
	}
	if strings.Contains(stderr, "no-such-plugin") {
		t.Errorf("the plugin was looked for before the policy check: %s", stderr)
	}
}
