package rego

import (
	"context"
	"slices"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/sso"
)

func TestFoldExtension(t *testing.T) {
	cfg := config.Default()
	cfg.DefaultCompany = "c1"
	defaults, err := EffectiveModules(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	extended := replaceModule(defaults, "extend.rego", `package clearml.sso.extend

groups contains "Data"
`)
	withProbe := replaceModule(defaults, "clearml/probe.rego", `package clearml.probe

extended := d if {
	d := data.clearml.sso.decision with data.clearml.sso.extend.groups as {"Data"}
}
`)
	for _, tc := range []struct {
		name     string
		mods     []Module
		folded   bool
		wantSync bool
	}{
		{"no extension: folded", defaults, true, false},
		{"an extension rule: kept", extended, false, true},
		{"with on the extension: kept", withProbe, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			left := refsLeft(t, tc.mods, extendRef)
			if tc.folded != (len(left) == 0) {
				t.Errorf("extension references left: %q", left)
			}
			ctx := context.Background()
			e, err := New(ctx, &cfg, WithModules(tc.mods))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.SetDirectory(ctx, loadDirectory(t)); err != nil {
				t.Fatal(err)
			}
			d, err := e.Decide(ctx, &sso.Input{Identity: sso.Identity{Email: "x@nowhere.example"}})
			if err != nil || !d.Allow || d.SyncGroups != tc.wantSync {
				t.Fatalf("decision %s, %v", jsonString(d), err)
			}
			if tc.wantSync && !slices.Equal(d.Groups, []string{"Data"}) {
				t.Errorf("groups %q", d.Groups)
			}
		})
	}
}
