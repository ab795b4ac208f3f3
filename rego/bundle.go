package rego

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/pingauthz/pingauthz/internal/config"
)

// OriginBundle marks a module of the policy bundle (policy__bundle).
const OriginBundle = "bundle"

// EffectiveModulesWith is EffectiveModules with overrides given as modules,
// e.g. a policy bundle's, instead of read from cfg.PolicyDir: as with
// policy__dir, a module whose base name equals a default's replaces it at
// the default's Path, and every other one is added at its Path.
func EffectiveModulesWith(cfg *config.Config, overrides []Module) ([]Module, error) {
	if cfg == nil {
		return EffectiveModules(nil)
	}
	c := *cfg
	c.PolicyDir = ""
	mods, err := EffectiveModules(&c)
	if err != nil {
		return nil, err
	}
	byBase := make(map[string]int, len(mods))
	for i, m := range mods {
		byBase[path.Base(m.Path)] = i
	}
	replacedBy := map[string]string{}
	for _, o := range overrides {
		if mods, err = mergeOverride(mods, byBase, replacedBy, o); err != nil {
			return nil, fmt.Errorf("rego: %w", err)
		}
	}
	slices.SortFunc(mods, func(a, b Module) int { return strings.Compare(a.Path, b.Path) })
	return mods, nil
}

// mergeOverride puts o in place of the default with its base name and
// package (byBase indexes mods by base name; replacedBy records which
// override replaced which default), or adds it at its own Path. A module
// with a default's base name but another package is added, unless it would
// take that default's Path.
func mergeOverride(mods []Module, byBase map[string]int, replacedBy map[string]string, o Module) ([]Module, error) {
	i, ok := byBase[path.Base(o.Path)]
	if ok && samePackage(mods[i].Source, o.Source) {
		target := mods[i].Path
		if other, dup := replacedBy[target]; dup {
			return nil, fmt.Errorf("%s and %s both replace the default %s; keep one", other, o.File, target)
		}
		replacedBy[target] = o.File
		o.Path = target
		mods[i] = o
		return mods, nil
	}
	if ok && mods[i].Path == o.Path {
		return nil, fmt.Errorf("%s takes the path of the default %s but declares package %s, not %s; move or rename it",
			o.File, o.Path, packageOf(o.Source), packageOf(mods[i].Source))
	}
	for _, m := range mods {
		if m.Path == o.Path {
			return nil, fmt.Errorf("%s and %s have the same path %s", m.File, o.File, o.Path)
		}
	}
	return append(mods, o), nil
}
