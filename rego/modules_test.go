package rego

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
)

func TestEffectiveModulesDefaults(t *testing.T) {
	cfg := config.Default()
	cfg.DefaultCompany = "acme"
	mods, err := EffectiveModules(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, m := range mods {
		paths = append(paths, m.Path)
		wantOrigin := OriginDefault
		if m.Path == ConfigPath {
			wantOrigin = OriginGenerated
		}
		if m.Origin != wantOrigin || m.File != m.Path || len(m.Source) == 0 {
			t.Errorf("module %s: origin %s, file %s, %d bytes", m.Path, m.Origin, m.File, len(m.Source))
		}
	}
	if !slices.IsSorted(paths) {
		t.Errorf("paths not sorted: %v", paths)
	}
	for _, want := range []string{ConfigPath, "clearml/sso/decision.rego", "clearml/sso/decision_test.rego"} {
		if !slices.Contains(paths, want) {
			t.Errorf("missing %s in %v", want, paths)
		}
	}
	gen, _ := GenerateConfig(&cfg)
	for _, m := range mods {
		if m.Path == ConfigPath && string(m.Source) != string(gen) {
			t.Error("config.rego is not the one generated for the configuration")
		}
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestEffectiveModulesOverrides(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   map[string]string
		wantErr string
		check   func(t *testing.T, mods map[string]Module)
	}{
		{
			name:  "replace by base name at any depth",
			files: map[string]string{"deep/er/decision.rego": "package clearml.sso\n"},
			check: func(t *testing.T, mods map[string]Module) {
				m := mods["clearml/sso/decision.rego"]
				if m.Origin != OriginOverride || !strings.HasSuffix(m.File, filepath.Join("deep", "er", "decision.rego")) {
					t.Errorf("decision.rego not replaced: %+v", m)
				}
				if _, ok := mods["deep/er/decision.rego"]; ok {
					t.Error("a replacement must not also be added")
				}
			},
		},
		{
			name:  "add at the relative path",
			files: map[string]string{"extra.rego": "package x\n", "sub/more_test.rego": "package x_test\n", "notes.md": "x"},
			check: func(t *testing.T, mods map[string]Module) {
				for _, p := range []string{"extra.rego", "sub/more_test.rego"} {
					if mods[p].Origin != OriginOverride {
						t.Errorf("%s not added", p)
					}
				}
				if _, ok := mods["notes.md"]; ok {
					t.Error("non-Rego file added")
				}
				if !mods["sub/more_test.rego"].IsTest() {
					t.Error("IsTest false for a _test.rego file")
				}
			},
		},
		{
			name:  "hidden files and directories are skipped",
			files: map[string]string{".decision.rego": "x", ".git/decision.rego": "x", "ok.rego": "package ok\n"},
			check: func(t *testing.T, mods map[string]Module) {
				if mods["clearml/sso/decision.rego"].Origin != OriginDefault {
					t.Error("a hidden file replaced a default")
				}
				if _, ok := mods["ok.rego"]; !ok {
					t.Error("ok.rego missing")
				}
			},
		},
		{
			name:  "replace the generated config",
			files: map[string]string{"config.rego": "package clearml.config\n"},
			check: func(t *testing.T, mods map[string]Module) {
				if mods[ConfigPath].Origin != OriginOverride {
					t.Error("config.rego not replaced")
				}
			},
		},
		{
			name:  "a file named like a default in another package is added",
			files: map[string]string{"email.rego": "package clearml.sso.extend\n", "decision.rego": "package clearml.sso\n"},
			check: func(t *testing.T, mods map[string]Module) {
				if mods["clearml/email/email.rego"].Origin != OriginDefault {
					t.Error("an extension file named email.rego replaced the email rule")
				}
				if mods["email.rego"].Origin != OriginOverride {
					t.Error("email.rego not added")
				}
				if mods["clearml/sso/decision.rego"].Origin != OriginOverride {
					t.Error("decision.rego of the same package did not replace the default")
				}
			},
		},
		{
			name:    "an added file may not take a default's path",
			files:   map[string]string{"clearml/email/email.rego": "package clearml.sso.extend\n"},
			wantErr: "takes the path of the default clearml/email/email.rego but declares package data.clearml.sso.extend",
		},
		{
			name:    "two replacements of one default",
			files:   map[string]string{"a/decision.rego": "", "b/decision.rego": ""},
			wantErr: "both replace the default clearml/sso/decision.rego",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.PolicyDir = writeFiles(t, tc.files)
			mods, err := EffectiveModules(&cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			byPath := map[string]Module{}
			for _, m := range mods {
				byPath[m.Path] = m
			}
			tc.check(t, byPath)
		})
	}
}

func TestEffectiveModulesBadDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f.rego")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{file, filepath.Join(t.TempDir(), "absent")} {
		cfg := config.Default()
		cfg.PolicyDir = dir
		if _, err := EffectiveModules(&cfg); err == nil || !strings.Contains(err.Error(), "rego: policy dir") {
			t.Errorf("%s: error %v", dir, err)
		}
	}
	if _, err := EffectiveModules(nil); err == nil {
		t.Error("nil config accepted")
	}
}

func TestRevision(t *testing.T) {
	a := []Module{{Path: "a.rego", Source: []byte("x")}, {Path: "b.rego", Source: []byte("y")}}
	b := []Module{a[1], a[0]}
	if Revision(a) != Revision(b) {
		t.Error("revision depends on order")
	}
	if !strings.HasPrefix(Revision(a), "sha256:") || len(Revision(a)) != len("sha256:")+64 {
		t.Errorf("revision %q", Revision(a))
	}
	for _, changed := range [][]Module{
		{{Path: "a.rego", Source: []byte("x ")}, a[1]},
		{{Path: "c.rego", Source: []byte("x")}, a[1]},
		{{Path: "a.rego", Source: []byte("xb.rego")}},
		{a[0]},
	} {
		if Revision(changed) == Revision(a) {
			t.Errorf("revision unchanged for %v", changed)
		}
	}
}

func TestParseModulesReportsEveryFile(t *testing.T) {
	_, err := ParseModules([]Module{
		{Path: "a.rego", File: "dir/a.rego", Source: []byte("package a\n\nx := \n")},
		{Path: "b.rego", File: "dir/b.rego", Source: []byte("package b\nx := {\n")},
		{Path: "c.rego", File: "dir/c.rego", Source: []byte("")},
		{Path: "ok.rego", File: "dir/ok.rego", Source: []byte("package ok\n")},
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"dir/a.rego:4", "dir/b.rego:", "dir/c.rego"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "ok.rego") {
		t.Errorf("error names a good file: %v", err)
	}
}
