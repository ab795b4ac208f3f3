package rego

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
)

// TestExtendExamples checks each worked example of testdata/extend: its
// policy set passes Check, its own tests and the default tests pass on the
// effective set, and policies/README.md quotes the extension file as it is.
func TestExtendExamples(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "policies", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := filepath.Glob(filepath.Join("..", "testdata", "extend", "*"))
	if err != nil || len(dirs) < 7 {
		t.Fatalf("examples %v, %v", dirs, err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cfg := config.Default()
			cfg.PolicyDir = dir
			if _, err := New(context.Background(), &cfg); err != nil {
				t.Fatalf("check: %v", err)
			}
			mods, err := EffectiveModules(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := ParseModules(mods)
			if err != nil {
				t.Fatal(err)
			}
			ch, err := RunTests(context.Background(), parsed, nil, TestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			own := 0
			for r := range ch {
				if !strings.HasPrefix(r.Package, "data.clearml.") {
					own++
				}
				if !r.Pass() {
					t.Errorf("%s.%s: %s", r.Package, r.Name, r.String())
				}
			}
			if own < 2 {
				t.Errorf("the example ran %d tests of its own", own)
			}
			for _, m := range mods {
				if m.Origin != OriginOverride || m.IsTest() {
					continue
				}
				quoted := append(append([]byte("```rego\n"), m.Source...), "```"...)
				if !bytes.Contains(readme, quoted) {
					t.Errorf("policies/README.md does not quote %s as it is", m.File)
				}
			}
		})
	}
}

// TestTrialIsShort keeps the operator trial (Team Leads are admins,
// contractor.example sign-ups denied with a message) one short file.
func TestTrialIsShort(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "testdata", "extend", "trial", "trial.rego"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(src, []byte("\n")); n >= 20 {
		t.Errorf("trial.rego has %d lines, want fewer than 20", n)
	}
}
