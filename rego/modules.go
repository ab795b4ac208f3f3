package rego

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/policies"
)

// Module is one file of the effective policy set.
type Module struct {
	// Path is the slash-separated path in the effective layout, e.g.
	// "clearml/sso/decision.rego"; policy render writes the file there.
	Path string
	// File is the name errors use: the override's path on disk, or Path for
	// a default or generated module.
	File string
	// Origin is "default", "generated" or "override".
	Origin string
	Source []byte
}

// Module origins.
const (
	OriginDefault   = "default"
	OriginGenerated = "generated"
	OriginOverride  = "override"
)

// IsTest reports whether the module is a test file (*_test.rego).
func (m Module) IsTest() bool { return strings.HasSuffix(m.Path, "_test.rego") }

// withoutTests returns the modules of mods that are not tests.
func withoutTests(mods []Module) []Module {
	var policy []Module
	for _, m := range mods {
		if !m.IsTest() {
			policy = append(policy, m)
		}
	}
	return policy
}

// EffectiveModules returns the policy set cfg selects, sorted by Path: the
// embedded defaults, with clearml/config/config.rego generated from cfg,
// then the .rego files of cfg.PolicyDir (searched recursively, files and
// directories starting with "." skipped, other files ignored). An override
// whose base name equals a default's replaces that default at the default's
// Path; two overrides that would replace the same default are an error.
// An override named like a default but declaring another package (an
// extension file called email.rego, say) is added, not a replacement.
// Every other override is added at its path relative to PolicyDir. It
// parses only the package of overrides named like a default, and does not
// compile the modules.
func EffectiveModules(cfg *config.Config) ([]Module, error) {
	if cfg == nil {
		return nil, errors.New("rego: effective modules: nil config")
	}
	mods, err := defaultModules()
	if err != nil {
		return nil, err
	}
	generated, err := GenerateConfig(cfg)
	if err != nil {
		return nil, err
	}
	byBase := map[string]int{}
	for i, m := range mods {
		if m.Path == ConfigPath {
			mods[i] = Module{Path: ConfigPath, File: ConfigPath, Origin: OriginGenerated, Source: generated}
		}
		byBase[path.Base(m.Path)] = i
	}
	if cfg.PolicyDir != "" {
		if mods, err = applyOverrides(mods, byBase, cfg.PolicyDir); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(mods, func(a, b Module) int { return strings.Compare(a.Path, b.Path) })
	return mods, nil
}

// defaultModules reads the embedded default policies.
func defaultModules() ([]Module, error) {
	var mods []Module
	seen := map[string]string{}
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return err
		}
		if other, dup := seen[path.Base(p)]; dup {
			// Overrides match defaults by base name, so it must be unique.
			return fmt.Errorf("default policies %s and %s share a base name", other, p)
		}
		seen[path.Base(p)] = p
		src, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		mods = append(mods, Module{Path: p, File: p, Origin: OriginDefault, Source: src})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rego: default policies: %w", err)
	}
	return mods, nil
}

// applyOverrides reads dir and replaces or adds modules.
func applyOverrides(mods []Module, byBase map[string]int, dir string) ([]Module, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("rego: policy dir: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("rego: policy dir %s: not a directory", dir)
	}
	replacedBy := map[string]string{} // default path -> override file
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".rego") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		mods, err = mergeOverride(mods, byBase, replacedBy, Module{Path: filepath.ToSlash(rel), File: p, Origin: OriginOverride, Source: src})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("rego: policy dir %s: %w", dir, err)
	}
	return mods, nil
}

// samePackage reports whether an override declares the package of the
// default it is named like, or does not parse (so that its error is
// reported where the default was).
func samePackage(def, override []byte) bool {
	o := packageOf(override)
	return o == "" || o == packageOf(def)
}

// packageOf is the package a module declares, or "" when it does not parse.
func packageOf(src []byte) string {
	m, err := ast.ParseModuleWithOpts("", string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil || m == nil {
		return ""
	}
	return m.Package.Path.String()
}

// Revision identifies a policy set: "sha256:" and the hex SHA-256 of every
// module's Path and Source in Path order. Equal sets give equal revisions.
func Revision(mods []Module) string {
	sorted := slices.Clone(mods)
	slices.SortFunc(sorted, func(a, b Module) int { return strings.Compare(a.Path, b.Path) })
	h := sha256.New()
	for _, m := range sorted {
		fmt.Fprintf(h, "%d:%s\n%d:", len(m.Path), m.Path, len(m.Source))
		h.Write(m.Source)
		h.Write([]byte{'\n'})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
