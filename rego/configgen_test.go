package rego

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/policies"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func goldenConfigs() map[string]config.Config {
	full := config.Default()
	full.DefaultCompany = "c1"
	full.Groups = config.Groups{
		Enabled:                        true,
		Claim:                          "memberOf",
		CaseSensitive:                  false,
		Admins:                         []string{"ClearML-Admins", "Ops Admins", "ClearML-Admins"},
		ProhibitUserSignupIfNotInGroup: true,
		FromDN:                         true,
	}
	full.RequireVerifiedEmail = true
	odd := config.Default()
	odd.DefaultCompany = "company \"quoted\" \\ ${X}\n"
	odd.Groups.Admins = []string{"zz", "ünïcode", "a\tb", ""}
	return map[string]config.Config{
		"default": config.Default(),
		"full":    full,
		"escaped": odd,
	}
}

func TestGenerateConfigGolden(t *testing.T) {
	for name, cfg := range goldenConfigs() {
		t.Run(name, func(t *testing.T) {
			got, err := GenerateConfig(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("..", "testdata", "golden", "config", name+".rego")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./rego -run TestGenerateConfigGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("GenerateConfig differs from %s (run with -update after checking):\n%s", golden, got)
			}
			again, _ := GenerateConfig(&cfg)
			if !bytes.Equal(got, again) {
				t.Error("GenerateConfig is not deterministic")
			}
			formatted, err := format.SourceWithOpts(ConfigPath, got, format.Opts{RegoVersion: ast.RegoV1})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(formatted, got) {
				t.Errorf("opa fmt would change the generated module:\n%s", formatted)
			}
		})
	}
}

// TestGenerateConfigValues parses the generated module and compares each
// constant with the configuration it came from.
func TestGenerateConfigValues(t *testing.T) {
	for name, cfg := range goldenConfigs() {
		t.Run(name, func(t *testing.T) {
			src, err := GenerateConfig(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			mod, err := ast.ParseModuleWithOpts(ConfigPath, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
			if err != nil {
				t.Fatal(err)
			}
			if got := mod.Package.Path.String(); got != "data.clearml.config" {
				t.Errorf("package %s", got)
			}
			values := map[string]any{}
			for _, r := range mod.Rules {
				v, err := ast.JSON(r.Head.Value.Value)
				if err != nil {
					t.Fatal(err)
				}
				values[r.Head.Name.String()] = v
			}
			admins := map[string]bool{}
			for _, a := range cfg.Groups.Admins {
				admins[a] = true
			}
			gotAdmins := map[string]bool{}
			for _, a := range values["admin_groups"].([]any) {
				gotAdmins[a.(string)] = true
			}
			want := map[string]any{
				"default_company":                      cfg.DefaultCompany,
				"groups_case_sensitive":                cfg.Groups.CaseSensitive,
				"groups_claim":                         cfg.Groups.Claim,
				"groups_enabled":                       cfg.Groups.Enabled,
				"groups_from_dn":                       cfg.Groups.FromDN,
				"prohibit_user_signup_if_not_in_group": cfg.Groups.ProhibitUserSignupIfNotInGroup,
				"provider":                             config.Provider,
				"require_verified_email":               cfg.RequireVerifiedEmail,
			}
			for k, w := range want {
				if values[k] != w {
					t.Errorf("%s = %#v, want %#v", k, values[k], w)
				}
			}
			if len(gotAdmins) != len(admins) {
				t.Errorf("admin_groups = %v, want %v", gotAdmins, admins)
			}
			for a := range admins {
				if !gotAdmins[a] {
					t.Errorf("admin_groups lacks %q", a)
				}
			}
			if len(values) != len(want)+1 {
				t.Errorf("constants %v", values)
			}
		})
	}
}

// TestDefaultConfigModuleIsGenerated keeps the config.rego shipped with the
// default policies equal to the one generated for config.Default(), so
// opa test policies/ runs against the defaults.
func TestDefaultConfigModuleIsGenerated(t *testing.T) {
	cfg := config.Default()
	want, err := GenerateConfig(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := policies.FS.ReadFile(ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("policies/%s differs from the generated default; replace it with:\n%s", ConfigPath, want)
	}
}

func TestGenerateConfigNil(t *testing.T) {
	if _, err := GenerateConfig(nil); err == nil {
		t.Error("no error for a nil config")
	}
}
