package policies_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/policies"
	"github.com/pingauthz/pingauthz/rego"
)

// TestRegoSuites runs the embedded Rego tests on the effective policy set of
// several configurations: the tests pin the configuration they need, so
// they pass whatever config.rego is generated.
func TestRegoSuites(t *testing.T) {
	full := config.Default()
	full.DefaultCompany = "c1"
	full.Groups = config.Groups{Enabled: true, Claim: "memberOf", Admins: []string{"Ops"}, ProhibitUserSignupIfNotInGroup: true, FromDN: true}
	for name, cfg := range map[string]config.Config{"default": config.Default(), "everything on": full} {
		t.Run(name, func(t *testing.T) {
			mods, err := rego.EffectiveModules(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := rego.ParseModules(mods)
			if err != nil {
				t.Fatal(err)
			}
			ch, err := rego.RunTests(context.Background(), parsed, nil, rego.TestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for r := range ch {
				n++
				if !r.Pass() {
					t.Errorf("%s.%s: %s (error %v)", r.Package, r.Name, r.String(), r.Error)
				}
			}
			if n < 50 {
				t.Errorf("ran %d Rego tests, want the whole suite", n)
			}
		})
	}
}

func TestEmbeddedLayout(t *testing.T) {
	var files []string
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !(strings.HasPrefix(f, "clearml/") || strings.HasPrefix(f, "system/log/")) || !strings.HasSuffix(f, ".rego") {
			t.Errorf("unexpected embedded file %s", f)
		}
	}
	if len(files) < 3 {
		t.Errorf("embedded files %v", files)
	}
}
