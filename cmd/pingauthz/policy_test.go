package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/internal/config"
)

func testdata(parts ...string) string {
	p, err := filepath.Abs(filepath.Join(append([]string{"..", "..", "testdata"}, parts...)...))
	if err != nil {
		panic(err)
	}
	return p
}

func writeTempFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// policyCase is one entry of testdata/policy/cases.json.
type policyCase struct {
	Name  string            `json:"name"`
	Env   map[string]string `json:"env"`
	Input json.RawMessage   `json:"input"`
	Want  sso.Decision      `json:"want"`
}

// TestPolicyEvalCases runs every case of testdata/policy/cases.json through
// `pingauthz policy eval` with the case's environment.
func TestPolicyEvalCases(t *testing.T) {
	data, err := os.ReadFile(testdata("policy", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []policyCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 20 {
		t.Fatalf("only %d cases", len(cases))
	}
	dir := testdata("policy", "directory.json")
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			env := append([]string(nil), baseEnv...)
			for k, v := range c.Env {
				env = append(env, k+"="+v)
			}
			input := writeTempFile(t, "input.json", string(c.Input))
			code, stdout, stderr := cli(t, env, "", "policy", "eval", "--input", input, "--directory", dir)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var got sso.Decision
			dec := json.NewDecoder(strings.NewReader(stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("stdout %q: %v", stdout, err)
			}
			if !reflect.DeepEqual(got, c.Want) {
				t.Errorf("decision\n got %s\nwant %s", stdout, mustJSON(c.Want))
			}
			if len(got.Reasons) == 0 || (!got.Allow && !strings.HasPrefix(got.Reasons[0], "deny:")) {
				t.Errorf("decision not explained: %v", got.Reasons)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestPolicyEvalStdin(t *testing.T) {
	code, stdout, stderr := cli(t, baseEnv, `{"identity": {"email": "a@b.example"}, "user": {"id": "u", "company": "c9"}}`,
		"policy", "eval", "--input", "-")
	if code != 0 || !strings.Contains(stdout, `"login:existing_user"`) {
		t.Errorf("exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
}

func TestPolicyEvalBadInput(t *testing.T) {
	dir := testdata("policy", "directory.json")
	good := writeTempFile(t, "input.json", `{"identity": {"email": "a@b.example"}, "user": null}`)
	typo := writeTempFile(t, "typo.json", `{"identity": {"emial": "a@b.example"}, "user": null}`)
	badDir := writeTempFile(t, "dir.json", `{"companies": {"c1": {"name": "x", "grups": []}}}`)
	invalidDir := writeTempFile(t, "invalid.json", `{"companies": {"": {"name": "x"}}}`)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown input field", []string{"--input", typo, "--directory", dir}, typo + `: rego: input: json: unknown field "emial"`},
		{"unknown directory field", []string{"--input", good, "--directory", badDir}, badDir + `: rego: directory: json: unknown field "grups"`},
		{"invalid directory", []string{"--input", good, "--directory", invalidDir}, invalidDir + ": rego: directory: a company has an empty id"},
		{"missing input file", []string{"--input", filepath.Join(t.TempDir(), "absent.json")}, "no such file"},
		{"no input flag", []string{"--directory", dir}, "--input is required"},
		{"two stdins", []string{"--input", "-", "--directory", "-"}, "only one of"},
		{"extra argument", []string{"--input", good, "more"}, `unexpected argument "more"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, baseEnv, "", append([]string{"policy", "eval"}, tc.args...)...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, stdout, stderr, tc.want)
			}
		})
	}
	bad := []string{config.VarName("groups__enabled", false) + "=maybe"}
	code, _, stderr := cli(t, bad, "", "policy", "eval", "--input", good)
	if code != 2 || !strings.Contains(stderr, "invalid configuration") || !strings.Contains(stderr, config.VarName("groups__enabled", false)) {
		t.Errorf("invalid environment: exit %d, %s", code, stderr)
	}
}

// TestPolicyCommandsNeedNoPingSettings checks that render, test and eval
// read only the keys that shape the policy: no endpoint, client id or
// secret, and a malformed one is not even read.
func TestPolicyCommandsNeedNoPingSettings(t *testing.T) {
	env := []string{
		config.VarName("groups__enabled", false) + "=true",
		config.VarName("default_company", true) + "=c1",
		config.VarName("client_secret", true) + "=[unparseable",
	}
	input := writeTempFile(t, "input.json", `{"identity": {"email": "a@b.example", "groups": ["ML Team"]}, "user": null}`)
	code, stdout, stderr := cli(t, env, "", "policy", "eval", "--input", input, "--directory", testdata("policy", "directory.json"))
	if code != 0 || !strings.Contains(stdout, `"signup:default_company"`) || !strings.Contains(stdout, `"ML Team"`) {
		t.Errorf("eval: exit %d, %s%s", code, stdout, stderr)
	}
	out := filepath.Join(t.TempDir(), "rendered")
	if code, _, stderr := cli(t, env, "", "policy", "render", "--out", out); code != 0 {
		t.Errorf("render: exit %d, %s", code, stderr)
	}
	if code, stdout, stderr := cli(t, env, "", "policy", "test"); code != 0 {
		t.Errorf("test: exit %d, %s%s", code, stdout, stderr)
	}
	if strings.Contains(stderr, "client_secret") || strings.Contains(stderr, "authorize_url") {
		t.Errorf("stderr mentions a setting the policy does not need: %s", stderr)
	}
}

// TestPolicyTestChecksTheSet checks that policy test refuses a policy set
// that config check refuses, for the effective set and a rendered DIR.
func TestPolicyTestChecksTheSet(t *testing.T) {
	dir := testdata("overrides", "extend_bad_code")
	code, _, stderr := cli(t, withPolicyDir(dir), "", "policy", "test")
	if code != 2 || !strings.Contains(stderr, filepath.Join(dir, "extend.rego")+":4: rego_compile_error: extension rule admin") {
		t.Errorf("effective set: exit %d, %s", code, stderr)
	}
	out := filepath.Join(t.TempDir(), "rendered")
	if code, _, stderr := cli(t, withPolicyDir(testdata("overrides", "extend_probe_time")), "", "policy", "render", "--out", out); code != 0 {
		t.Fatalf("render: exit %d, %s", code, stderr)
	}
	code, _, stderr = cli(t, nil, "", "policy", "test", out)
	if code != 2 || !strings.Contains(stderr, `probe login "`) || !strings.Contains(stderr, "extension rule signup (") {
		t.Errorf("rendered DIR: exit %d, %s", code, stderr)
	}
}

func withPolicyDir(dir string) []string {
	return append([]string{config.VarName("policy__dir", false) + "=" + dir}, baseEnv...)
}

func TestPolicyEvalBadOverrides(t *testing.T) {
	input := writeTempFile(t, "input.json", `{"identity": {"email": "a@b.example"}, "user": null}`)
	t.Run("syntax error", func(t *testing.T) {
		dir := testdata("overrides", "syntax_error")
		code, stdout, stderr := cli(t, withPolicyDir(dir), "", "policy", "eval", "--input", input)
		if code != 2 || stdout != "" || !strings.Contains(stderr, filepath.Join(dir, "decision.rego")+":5") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
	// A decision of the wrong shape is refused before evaluating the
	// input, naming the probe login and the file.
	for _, name := range []string{"undefined", "allow_string", "missing_keys", "bad_role", "groups_not_strings", "conflict"} {
		t.Run(name, func(t *testing.T) {
			dir := testdata("overrides", name)
			code, stdout, stderr := cli(t, withPolicyDir(dir), "", "policy", "eval", "--input", input)
			if code != 2 || stdout != "" || !strings.Contains(stderr, "probe login") || !strings.Contains(stderr, filepath.Join(dir, "decision.rego")+":") {
				t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
		})
	}
}

// TestPolicyRenderThenTest renders the effective set for several
// environments and runs its tests from the written directory, as opa test
// DIR would.
func TestPolicyRenderThenTest(t *testing.T) {
	everything := append([]string{
		config.VarName("default_company", true) + "=c1",
		config.VarName("groups__enabled", false) + "=true",
		config.VarName("groups__case_sensitive", false) + "=false",
		config.VarName("groups__admins", false) + `=["ClearML-Admins"]`,
		config.VarName("groups__prohibit_user_signup_if_not_in_group", false) + "=true",
	}, baseEnv...)
	for _, tc := range []struct {
		name  string
		env   []string
		files []string
	}{
		{"defaults", baseEnv, []string{"clearml/config/config.rego", "clearml/sso/decision.rego", "clearml/sso/groups_test.rego"}},
		{"everything on", everything, []string{"clearml/sso/decision.rego"}},
		{"overrides", withPolicyDir(testdata("overrides", "extra")), []string{"clearml/audit/audit.rego", "clearml/audit/audit_test.rego"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "rendered")
			code, _, stderr := cli(t, tc.env, "", "policy", "render", "--out", out)
			if code != 0 {
				t.Fatalf("render: exit %d, %s", code, stderr)
			}
			for _, f := range tc.files {
				if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(f))); err != nil {
					t.Error(err)
				}
			}
			if tc.name == "everything on" {
				src, _ := os.ReadFile(filepath.Join(out, "clearml", "config", "config.rego"))
				if !strings.Contains(string(src), `default_company := "c1"`) || !strings.Contains(string(src), "groups_case_sensitive := false") {
					t.Errorf("rendered config.rego does not follow the environment:\n%s", src)
				}
			}
			code, stdout, stderr := cli(t, baseEnv, "", "policy", "test", out)
			if code != 0 || !strings.Contains(stdout, "PASS: ") || strings.Contains(stdout, "FAIL") {
				t.Errorf("test DIR: exit %d\n%s%s", code, stdout, stderr)
			}
			// Rendering again into the same directory is fine.
			if code, _, stderr := cli(t, tc.env, "", "policy", "render", "--out", out); code != 0 {
				t.Errorf("render again: exit %d, %s", code, stderr)
			}
			// The effective set's tests pass without rendering, too.
			code, stdout, _ = cli(t, tc.env, "", "policy", "test")
			if code != 0 || !strings.Contains(stdout, "PASS: ") {
				t.Errorf("test: exit %d\n%s", code, stdout)
			}
		})
	}
}

func TestPolicyRenderRefusesStrayFiles(t *testing.T) {
	out := t.TempDir()
	writeFile(t, filepath.Join(out, "old", "stale.rego"), "package stale\n")
	code, _, stderr := cli(t, baseEnv, "", "policy", "render", "--out", out)
	if code != 2 || !strings.Contains(stderr, filepath.Join("old", "stale.rego")) {
		t.Errorf("exit %d, %s", code, stderr)
	}
}

func TestPolicyRenderPrints(t *testing.T) {
	code, stdout, _ := cli(t, withPolicyDir(testdata("overrides", "extra")), "", "policy", "render")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"# file: clearml/config/config.rego (override " + testdata("overrides", "extra", "config.rego") + ")\n",
		"# file: clearml/sso/decision.rego (default)\n",
		"package clearml.audit\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	code, stdout, _ = cli(t, baseEnv, "", "policy", "render")
	if code != 0 || !strings.Contains(stdout, "# file: clearml/config/config.rego (generated)\n") {
		t.Errorf("exit %d; output lacks the generated config", code)
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPolicyTestOutcomes(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.rego"), "package p\n\nsmall(x) if x < data.limit\n")
	writeFile(t, filepath.Join(dir, "data.json"), `{"limit": 2}`)
	writeFile(t, filepath.Join(dir, "p_test.rego"), "package p_test\n\nimport data.p\n\ntest_one if p.small(1)\n\ntest_three if p.small(3)\n")

	code, stdout, _ := cli(t, nil, "", "policy", "test", dir)
	if code != 1 || !strings.Contains(stdout, "test_three: FAIL") || !strings.Contains(stdout, "PASS: 1/2") {
		t.Errorf("failing suite: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = cli(t, nil, "", "policy", "test", "-v", "--run", "test_one", dir)
	if code != 0 || !strings.Contains(stdout, "test_one: PASS") || strings.Contains(stdout, "test_three") {
		t.Errorf("--run: exit %d\n%s", code, stdout)
	}

	broken := t.TempDir()
	writeFile(t, filepath.Join(broken, "b.rego"), "package b\n\nx := {\n")
	code, _, stderr := cli(t, nil, "", "policy", "test", broken)
	if code != 2 || !strings.Contains(stderr, filepath.Join(broken, "b.rego")+":") {
		t.Errorf("broken suite: exit %d, %s", code, stderr)
	}
	code, _, stderr = cli(t, nil, "", "policy", "test", "a", "b")
	if code != 2 || !strings.Contains(stderr, "at most one directory") {
		t.Errorf("two dirs: exit %d, %s", code, stderr)
	}
}

// TestPolicyEvalIgnoredWhitelistKey checks that a whitelist key no login
// can match is named on stderr, and that its look-alike does not match it.
func TestPolicyEvalIgnoredWhitelistKey(t *testing.T) {
	input := writeTempFile(t, "input.json", `{"identity": {"email": "kate@example.com"}, "user": null}`)
	dir := writeTempFile(t, "dir.json", `{"companies": {"c1": {"name": "One", "groups": []}},
		"whitelist": {"emails": {"\u212Aate@example.com": {"company": "c1", "is_admin": true}}, "domains": {}}}`)
	code, stdout, stderr := cli(t, baseEnv, "", "policy", "eval", "--input", input, "--directory", dir)
	if code != 0 || !strings.Contains(stdout, `"deny:not_whitelisted"`) {
		t.Errorf("exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, `whitelist entry matches no login`) || !strings.Contains(stderr, `\u212aate@example.com`) {
		t.Errorf("stderr %q does not name the ignored key", stderr)
	}
}
