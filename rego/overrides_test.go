package rego

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/internal/config"
)

func overrideConfig(name string) *config.Config {
	cfg := config.Default()
	cfg.DefaultCompany = "c1"
	cfg.PolicyDir = filepath.Join("..", "testdata", "overrides", name)
	return &cfg
}

func newUserInput() *sso.Input {
	return &sso.Input{Identity: sso.Identity{
		Issuer: "https://issuer.example", Subject: "s1", UserID: "s1",
		Email: "new@nowhere.example", Groups: []string{"ML Team"},
	}}
}

// TestOverrideCompileErrors checks that a policy set that does not compile
// is refused by New with the file and line at fault.
func TestOverrideCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{"syntax_error", []string{filepath.Join("..", "testdata", "overrides", "syntax_error", "decision.rego") + ":"}},
		{"no_decision", []string{"no rule defines data.clearml.sso.decision"}},
		{"duplicate", []string{"both replace the default clearml/sso/decision.rego"}},
		{"missing", []string{"policy dir", "no such file"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			_, err := New(context.Background(), overrideConfig(tc.dir))
			if err == nil {
				t.Fatal("New accepted the override")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestOverrideSyntaxErrorNamesLine(t *testing.T) {
	_, err := New(context.Background(), overrideConfig("syntax_error"))
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("error %T %v, want *CompileError", err, err)
	}
	loc := ce.Errors[0].Location
	if loc == nil || filepath.Base(loc.File) != "decision.rego" || loc.Row < 5 {
		t.Errorf("location %+v, want decision.rego at line 5 or later", loc)
	}
}

// uncheckedEngine is an Engine on cfg's policy set that skipped Check's
// probe logins, to reach the safety net at login time.
func uncheckedEngine(t *testing.T, cfg *config.Config, opts ...Option) *Engine {
	t.Helper()
	o := options{logger: hclog.NewNullLogger()}
	for _, opt := range opts {
		opt(&o)
	}
	set, _, err := build(context.Background(), cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{logger: o.logger}
	e.set.Store(set)
	return e
}

var badDecisions = []struct {
	dir    string
	detail string
	where  string // the file and line the check names
}{
	{"undefined", "is undefined", "undefined/decision.rego:4"},
	{"allow_string", "allow is string, not a boolean", "allow_string/decision.rego:3"},
	{"missing_keys", `decision has no "groups"`, "missing_keys/decision.rego:3"},
	{"bad_role", `role is "owner"`, "bad_role/decision.rego:3"},
	{"groups_not_strings", "groups contains number, not a string", "groups_not_strings/decision.rego:3"},
	{"groups_string", "groups is string, not a list of strings", "groups_string/decision.rego:3"},
	{"unknown_key", `unknown keys "alow"`, "unknown_key/decision.rego:3"},
	{"signup_without_role", "signs up a user without a role", "signup_without_role/decision.rego:3"},
	{"conflict", "evaluation failed", "conflict/decision.rego:6"},
}

// TestCheckRefusesBadDecisions checks that a decision that fails, is
// undefined or has the wrong shape is refused before any login, naming the
// probe login, the problem, and the file and line.
func TestCheckRefusesBadDecisions(t *testing.T) {
	for _, tc := range badDecisions {
		t.Run(tc.dir, func(t *testing.T) {
			_, err := New(context.Background(), overrideConfig(tc.dir))
			var pe *ProbeError
			if !errors.As(err, &pe) || pe.Probe == "" {
				t.Fatalf("error %T %v, want a *ProbeError", err, err)
			}
			for _, want := range []string{tc.detail, filepath.FromSlash(tc.where), `probe login "`} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// TestOverridePolicyErrors checks the safety net behind the check: at login
// time, a decision that fails, is undefined or has the wrong shape becomes
// a policy_error deny, never an allow.
func TestOverridePolicyErrors(t *testing.T) {
	for _, tc := range badDecisions {
		t.Run(tc.dir, func(t *testing.T) {
			var logs bytes.Buffer
			logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug, JSONFormat: true})
			ctx := context.Background()
			e := uncheckedEngine(t, overrideConfig(tc.dir), WithLogger(logger))
			if err := e.SetDirectory(ctx, loadDirectory(t)); err != nil {
				t.Fatal(err)
			}
			d, perr, err := e.DecideDetail(ctx, newUserInput())
			if err != nil {
				t.Fatal(err)
			}
			if perr == nil || !strings.Contains(perr.Error(), tc.detail) {
				t.Fatalf("policy error %v, want one containing %q", perr, tc.detail)
			}
			if perr.Revision != e.Revision() {
				t.Errorf("revision %q, want %q", perr.Revision, e.Revision())
			}
			want := sso.Decision{Groups: []string{}, Reasons: []string{sso.ReasonPolicyError}}
			if d.Allow || !equalDecision(*d, want) {
				t.Errorf("decision %s, want the policy_error deny", jsonString(d))
			}
			// Decide reports the same deny and logs the detail.
			d2, err := e.Decide(ctx, newUserInput())
			if err != nil || d2.Allow || d2.Reasons[0] != sso.ReasonPolicyError {
				t.Errorf("Decide = %s, %v", jsonString(d2), err)
			}
			var entry struct{ Error string }
			if err := json.Unmarshal(logs.Bytes(), &entry); err != nil || !strings.Contains(entry.Error, tc.detail) {
				t.Errorf("log %q lacks the detail %q (%v)", logs.String(), tc.detail, err)
			}
		})
	}
}

// TestOverrideExtra checks an override directory that adds modules (hidden
// directories and other files skipped) and replaces config.rego.
func TestOverrideExtra(t *testing.T) {
	cfg := overrideConfig("extra")
	mods, err := EffectiveModules(cfg)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]Module{}
	for _, m := range mods {
		byPath[m.Path] = m
	}
	for _, p := range []string{"clearml/audit/audit.rego", "clearml/audit/audit_test.rego"} {
		if m, ok := byPath[p]; !ok || m.Origin != OriginOverride {
			t.Errorf("%s missing or not an override: %+v", p, m)
		}
	}
	if m := byPath[ConfigPath]; m.Origin != OriginOverride || !strings.Contains(string(m.Source), "Platform Admins") {
		t.Errorf("config.rego not replaced: %+v", m)
	}
	for p := range byPath {
		if strings.Contains(p, ".hidden") || strings.HasSuffix(p, ".txt") {
			t.Errorf("%s should have been skipped", p)
		}
	}
	ctx := context.Background()
	e, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The replaced config has no default company and role sync on.
	d, perr, err := e.DecideDetail(ctx, &sso.Input{
		Identity: sso.Identity{Email: "a@b.example", Groups: []string{"Platform Admins"}},
		User:     &sso.User{ID: "u1", Company: "c1", Role: "user"},
	})
	if err != nil || perr != nil {
		t.Fatal(perr, err)
	}
	if d.Role == nil || *d.Role != sso.RoleAdmin {
		t.Errorf("decision %s, want role admin from the override config", jsonString(d))
	}
}

func equalDecision(a, b sso.Decision) bool { return jsonString(a) == jsonString(b) }

// TestOverrideWithheldBuiltins checks that an override calling http.send,
// net.* or opa.runtime is refused when it loads, naming the builtin, file
// and line, unless policy__insecure_builtins names each builtin.
func TestOverrideWithheldBuiltins(t *testing.T) {
	ctx := context.Background()
	lookup := filepath.Join("..", "testdata", "overrides", "withheld_builtins", "lookup.rego")
	runtime := filepath.Join("..", "testdata", "overrides", "runtime", "runtime.rego")
	for _, tc := range []struct {
		dir     string
		allowed []string
		want    []string // substrings of the error; none: New succeeds
	}{
		{"withheld_builtins", nil, []string{
			lookup + ":6: rego_compile_error: http.send is withheld from policies (it reaches the network); to allow it, set " +
				config.VarName("policy__insecure_builtins", false) + `=["http.send"]`,
			lookup + ":9: rego_compile_error: net.lookup_ip_addr is withheld",
			lookup + ":13: rego_compile_error: net.cidr_contains is withheld",
		}},
		{"withheld_builtins", []string{"http.send", "net.lookup_ip_addr"}, []string{lookup + ":13: rego_compile_error: net.cidr_contains is withheld"}},
		{"withheld_builtins", []string{"http.send", "net.lookup_ip_addr", "net.cidr_contains"}, nil},
		{"runtime", nil, []string{runtime + ":5: rego_compile_error: opa.runtime is withheld from policies (it returns the process environment, where the client secret is)"}},
		{"runtime", []string{"opa.runtime"}, nil},
		{"runtime", []string{"http_send"}, []string{`policy__insecure_builtins names "http_send", which is not a withheld builtin`, "http.send, net.cidr_contains"}},
	} {
		t.Run(tc.dir+" "+strings.Join(tc.allowed, ","), func(t *testing.T) {
			cfg := overrideConfig(tc.dir)
			cfg.PolicyInsecureBuiltins = tc.allowed
			_, err := New(ctx, cfg)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("New accepted the override")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestCapabilitiesWithholdBuiltins checks the compiler's own guard, under
// the named check: the capabilities lack every withheld builtin.
func TestCapabilitiesWithholdBuiltins(t *testing.T) {
	names := WithheldBuiltins()
	for _, want := range []string{"http.send", "opa.runtime", "net.lookup_ip_addr", "net.cidr_contains"} {
		if !slices.Contains(names, want) {
			t.Errorf("WithheldBuiltins() = %v lacks %s", names, want)
		}
	}
	caps, err := capabilities([]string{"http.send"})
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]bool{}
	for _, b := range caps.Builtins {
		kept[b.Name] = true
	}
	for _, n := range names {
		if kept[n] != (n == "http.send") {
			t.Errorf("capabilities keep %s: %v", n, kept[n])
		}
	}
	if !kept["count"] || !kept["regex.match"] {
		t.Error("capabilities lost ordinary builtins")
	}
}
