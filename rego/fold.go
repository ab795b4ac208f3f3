package rego

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// configRef is the package the generated config.rego defines.
var configRef = ast.MustParseRef("data.clearml.config")

// foldConfigStage is a compiler stage that replaces each reference to a
// constant of data.clearml.config by its value, so a decision does not
// evaluate a rule to read a setting. A constant is a complete rule without
// arguments, else or body, with a ground value, and the only rule of its
// name: what config.rego generates. A rule an override makes computed is
// left as it is. Nothing is folded when any rule replaces a setting with
// "with", since the value would then depend on the evaluation. It changes
// only the compiled form; Modules and policy render keep the source.
var foldConfigStage = ast.CompilerStageDefinition{
	Name:       "FoldConfigConstants",
	MetricName: "compile_stage_fold_config_constants",
	Stage:      foldConfig,
}

func foldConfig(c *ast.Compiler) *ast.Error {
	if withTargets(c.Modules, configRef) {
		return nil
	}
	constants := map[string]*ast.Term{}
	for _, mod := range c.Modules {
		if !mod.Package.Path.Equal(configRef) {
			continue
		}
		for _, r := range mod.Rules {
			full := r.Ref() // data.clearml.config.<name>
			if len(full) != len(configRef)+1 || !full.IsGround() {
				continue
			}
			if v, ok := constantValue(r); ok && len(c.GetRulesExact(full)) == 1 {
				constants[full.String()] = v
			}
		}
	}
	if len(constants) == 0 {
		return nil
	}
	for _, mod := range c.Modules {
		if mod.Package.Path.Equal(configRef) {
			continue
		}
		for _, r := range mod.Rules {
			// TransformRefs returns the rule it was given, changed in place.
			if _, err := ast.TransformRefs(r, func(ref ast.Ref) (ast.Value, error) {
				// A reference into a value, like admin_groups[x], stays:
				// the compiler has already hoisted composite values out
				// of references, and topdown does not iterate them there.
				if len(ref) != len(configRef)+1 || !ref.HasPrefix(configRef) {
					return ref, nil
				}
				if v, ok := constants[ref.String()]; ok {
					return v.Copy().Value, nil
				}
				return ref, nil
			}); err != nil {
				return ast.NewError(ast.CompileErr, r.Location, "fold config constants: %v", err)
			}
		}
	}
	return nil
}

// constantValue is the value of r when r is a constant (see foldConfigStage).
func constantValue(r *ast.Rule) (*ast.Term, bool) {
	h := r.Head
	switch {
	case h.Value == nil, h.Key != nil, len(h.Args) > 0, r.Else != nil,
		!h.Value.IsGround(), len(r.Body) != 1:
		return nil, false
	}
	expr := r.Body[0]
	if len(expr.With) > 0 || expr.Negated {
		return nil, false
	}
	body, ok := expr.Terms.(*ast.Term)
	if !ok || !body.Equal(ast.BooleanTerm(true)) {
		return nil, false
	}
	return h.Value, true
}

// withTargets reports whether any expression replaces a value under prefix
// (or a document above it, such as all of data) with "with".
func withTargets(mods map[string]*ast.Module, prefix ast.Ref) bool {
	found := false
	for _, mod := range mods {
		ast.WalkWiths(mod, func(w *ast.With) bool {
			if ref, ok := w.Target.Value.(ast.Ref); ok && (ref.HasPrefix(prefix) || prefix.HasPrefix(ref)) {
				found = true
			}
			return found
		})
	}
	return found
}
