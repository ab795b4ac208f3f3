package rego

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/pingauthz/pingauthz/sso"
)

// TestBrokenExtensionsRefused checks that a broken extension is refused
// before any login, with every problem's file, line and rule.
func TestBrokenExtensionsRefused(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want []string // "LINE: text"
	}{
		{"extend_syntax", []string{"7: rego_parse_error"}},
		{"extend_bad_code", []string{
			`4: rego_compile_error: extension rule admin: code "role:Team-Leads" must match ^role:[a-z0-9_]+$`,
			`6: rego_compile_error: extension rule deny_signup: code "signup:contractor" must match ^deny:[a-z0-9_]+$`,
			`10: rego_compile_error: extension rule signup: code "signup:default_company" is a built-in reason`,
		}},
		{"extend_wrong_type", []string{
			"4: rego_compile_error: extension rule company: must be one company id",
			"6: rego_compile_error: extension rule groups: must be a set of ClearML group names",
			"8: rego_compile_error: extension rule signup: must be a set of codes",
			"10: rego_compile_error: extension rule deny: entry message must be a string; it is number",
		}},
		{"extend_wrong_shape", []string{
			`4: rego_compile_error: extension rule deny: entry {"code": "deny:no_message"} has the keys "code"; want exactly "code" and "message"`,
			"6: rego_compile_error: extension rule company: must be one company id, e.g. company := \"c2\" if ..., not a set",
			"8: rego_compile_error: extension rule admin: must be a set of codes, e.g. admin contains \"role:team_lead\" if ..., not an object",
			"10: rego_compile_error: extension rule not_admin: must be a set of codes, e.g. not_admin contains \"role:team_lead\" if ..., not a function",
			"12: rego_compile_error: extension rule deny_sigup: is not an extension rule; did you mean deny_signup?",
		}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			_, err := New(context.Background(), overrideConfig(tc.dir))
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v, want a *CompileError", err, err)
			}
			file := filepath.Join("..", "testdata", "overrides", tc.dir, "extend.rego")
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), file+":"+w) {
					t.Errorf("error lacks %q:\n%v", file+":"+w, err)
				}
			}
			if len(ce.Errors) != len(tc.want) {
				t.Errorf("%d errors, want %d (the defaults' own errors left out):\n%v", len(ce.Errors), len(tc.want), err)
			}
		})
	}
}

// TestExtensionValueRefusedOnProbe checks a code that is only built at
// evaluation time: a probe login finds it, naming the rule, file and line.
func TestExtensionValueRefusedOnProbe(t *testing.T) {
	_, err := New(context.Background(), overrideConfig("extend_probe_time"))
	var pe *ProbeError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T %v, want a *ProbeError", err, err)
	}
	file := filepath.Join("..", "testdata", "overrides", "extend_probe_time", "extend.rego")
	want := `extension rule signup (` + file + `:4): code "signup:PROBE.EXAMPLE" must match ^signup:[a-z0-9_]+$`
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `probe login "new user`) {
		t.Errorf("error %q lacks %q", err, want)
	}
}

// TestExtensionValueAtLoginTime checks the safety net: a value only a login
// can produce is checked at every decision, and a malformed one denies with
// policy_error; a well-formed one denies with the operator's message.
func TestExtensionValueAtLoginTime(t *testing.T) {
	ctx := context.Background()
	e, err := New(ctx, overrideConfig("extend_login_time"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetDirectory(ctx, loadDirectory(t)); err != nil {
		t.Fatal(err)
	}
	if got := e.set.Load().Extension(); len(got) != 1 || got[0] != "deny" {
		t.Errorf("Extension() = %v", got)
	}
	flagged := func(note any) *sso.Input {
		in := newUserInput()
		in.Identity.Claims = map[string]any{"flagged": true, "note": note}
		return in
	}
	d, perr, err := e.DecideDetail(ctx, flagged(7))
	file := filepath.Join("..", "testdata", "overrides", "extend_login_time", "extend.rego")
	if err != nil || perr == nil || !strings.Contains(perr.Detail, "extension rule deny ("+file+":5): 7 is number, not a string") {
		t.Fatalf("policy error %v, %v", perr, err)
	}
	if d.Allow || d.Reasons[0] != sso.ReasonPolicyError {
		t.Errorf("decision %s", jsonString(d))
	}
	d, perr, err = e.DecideDetail(ctx, flagged("Your account is under review."))
	if err != nil || perr != nil {
		t.Fatal(perr, err)
	}
	if d.Allow || d.Reasons[0] != "deny:flagged" || d.Message != "Your account is under review." {
		t.Errorf("decision %s, want deny:flagged with the message", jsonString(d))
	}
	d, perr, err = e.DecideDetail(ctx, newUserInput())
	if err != nil || perr != nil || !d.Allow {
		t.Errorf("unflagged login: %s, %v, %v", jsonString(d), perr, err)
	}
}

func TestExtensionCheckValue(t *testing.T) {
	for _, tc := range []struct {
		rule, value, want string // want "" for a valid value
	}{
		{"deny", `{{"code": "deny:x", "message": "m"}}`, ""},
		{"deny", `{{"code": "deny:x", "message": ""}}`, ""},
		{"deny", `[{"code": "deny:x", "message": "m"}]`, "must be a set of"},
		{"deny", `{"deny:x"}`, `entry "deny:x" is string`},
		{"deny", `{{"code": "deny:x"}}`, `want exactly "code" and "message"`},
		{"deny", `{{"code": "deny:x", "message": "m", "extra": 1}}`, `want exactly "code" and "message"`},
		{"deny", `{{"code": "deny:X", "message": "m"}}`, `must match ^deny:[a-z0-9_]+$`},
		{"deny", `{{"code": "deny:not_whitelisted", "message": "m"}}`, "is a built-in reason"},
		{"deny", `{{"code": "deny:x", "message": 1}}`, "1 is number, not a string"},
		{"deny", `{{"code": "deny:x", "message": "a\nb"}}`, "control character"},
		{"deny", `{{"code": "deny:x", "message": "` + strings.Repeat("m", 201) + `"}}`, "201 characters"},
		{"deny_signup", `{{"code": "role:x", "message": "m"}}`, `must match ^deny:`},
		{"signup", `{"signup:a", "signup:b"}`, ""},
		{"signup", `{"signup:"}`, "must match"},
		{"signup", `{"deny:a"}`, "must match ^signup:"},
		{"signup", `"signup:a"`, "must be a set of codes"},
		{"admin", `{"role:team_lead"}`, ""},
		{"admin", `{"role:admin_group"}`, "is a built-in reason"},
		{"not_admin", `{"role:a", 1}`, "1 is number"},
		{"company", `"c2"`, ""},
		{"company", `""`, "non-empty"},
		{"company", `{"c2"}`, "must be one company id"},
		{"groups", `{"ML Team"}`, ""},
		{"groups", `{""}`, "must not be empty"},
		{"groups", `["ML Team"]`, "must be a set of ClearML group names"},
	} {
		rule, _ := lookupExtensionRule(tc.rule)
		got := checkValue(rule, ast.MustParseTerm(tc.value).Value)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s := %s: %q, want %q", tc.rule, tc.value, got, tc.want)
		}
	}
}
