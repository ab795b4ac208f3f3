package rego

import (
	"context"
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/pingauthz/pingauthz/internal/config"
)

// refsLeft lists the references below prefix (cut one segment below it)
// that the compiled decision module still evaluates.
func refsLeft(t *testing.T, mods []Module, prefix ast.Ref) []string {
	t.Helper()
	c, err := compile(withoutTests(mods), nil)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	ast.WalkRefs(c.Modules["clearml/sso/decision.rego"], func(r ast.Ref) bool {
		if r.HasPrefix(prefix) && len(r) > len(prefix) {
			left = append(left, r[:len(prefix)+1].String())
		}
		return false
	})
	slices.Sort(left)
	return slices.Compact(left)
}

// replaceModule returns mods with the module at path replaced by (or, when
// there is none, extended with) src.
func replaceModule(mods []Module, path, src string) []Module {
	out := slices.Clone(mods)
	m := Module{Path: path, File: path, Origin: OriginOverride, Source: []byte(src)}
	if i := slices.IndexFunc(out, func(m Module) bool { return m.Path == path }); i >= 0 {
		out[i] = m
		return out
	}
	return append(out, m)
}

func TestFoldConfig(t *testing.T) {
	cfg := config.Default()
	cfg.DefaultCompany = "c1"
	cfg.Groups.Enabled = true
	generated, err := EffectiveModules(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	computed := replaceModule(generated, "clearml/config/config.rego", `package clearml.config

admin_groups := set()

default_company := "c1"

groups_case_sensitive := true

default groups_enabled := false

groups_enabled if input.identity.email == "in@example.com"

prohibit_user_signup_if_not_in_group := false

require_verified_email := false
`)
	withProbe := replaceModule(generated, "clearml/probe.rego", `package clearml.probe

disabled := d if {
	d := data.clearml.sso.decision with data.clearml.config.groups_enabled as false
}
`)

	for _, tc := range []struct {
		name string
		mods []Module
		// left are the config references the decision still evaluates.
		left []string
		// email decides groups_enabled in the computed config.
		email    string
		wantSync bool
	}{
		{"generated constants are folded", generated, nil, "x@example.com", true},
		{"a computed setting is evaluated", computed, []string{"data.clearml.config.groups_enabled"}, "in@example.com", true},
		{"a computed setting is evaluated, false", computed, []string{"data.clearml.config.groups_enabled"}, "out@example.com", false},
		{"with on the config disables folding", withProbe, []string{
			"data.clearml.config.admin_groups", "data.clearml.config.default_company",
			"data.clearml.config.groups_case_sensitive", "data.clearml.config.groups_enabled",
			"data.clearml.config.prohibit_user_signup_if_not_in_group", "data.clearml.config.require_verified_email",
		}, "x@example.com", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if left := refsLeft(t, tc.mods, configRef); !slices.Equal(left, tc.left) {
				t.Errorf("config references left %q, want %q", left, tc.left)
			}
			ctx := context.Background()
			e, err := New(ctx, &cfg, WithModules(tc.mods))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.SetDirectory(ctx, loadDirectory(t)); err != nil {
				t.Fatal(err)
			}
			in := newUserInput()
			in.Identity.Email = tc.email
			d, err := e.Decide(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if !d.Allow || d.SyncGroups != tc.wantSync {
				t.Errorf("decision %+v, want an allow with sync_groups %v", d, tc.wantSync)
			}
			if tc.wantSync && !slices.Equal(d.Groups, []string{"ML Team"}) {
				t.Errorf("groups %q, want [ML Team]", d.Groups)
			}
		})
	}
}
