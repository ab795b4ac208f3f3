package rego

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// ExtensionPackage is the package of the operator's extension rules.
const ExtensionPackage = "data.clearml.sso.extend"

var extendRef = ast.MustParseRef(ExtensionPackage)

// foldExtensionStage is a compiler stage that, when no rule is defined
// under data.clearml.sso.extend, removes what the defaults do to consult
// it, so that the extension points cost nothing when unused. It propagates
// undefinedness: a rule branch whose body needs an undefined document (a
// non-negated expression at the top level of the body, not inside a
// comprehension or every, refers to it) can never hold and is dropped from
// its else chain; "not X" of an undefined X always holds and is dropped
// from its body; a rule or function whose every branch was dropped is
// undefined in turn. Nothing is changed when any "with" replaces a value
// under the package. Like foldConfigStage, it changes only the compiled
// form.
var foldExtensionStage = ast.CompilerStageDefinition{
	Name:       "FoldUndefinedExtension",
	MetricName: "compile_stage_fold_undefined_extension",
	Stage:      foldExtension,
}

func foldExtension(c *ast.Compiler) *ast.Error {
	if len(c.GetRulesWithPrefix(extendRef)) > 0 || withTargets(c.Modules, extendRef) {
		return nil
	}
	f := &undefinedFolder{c: c, undefined: []ast.Ref{extendRef}, done: map[string]bool{}}
	for changed := true; changed; {
		changed = false
		for _, mod := range c.Modules {
			for _, r := range mod.Rules {
				changed = f.foldRule(r) || changed
			}
		}
		changed = f.markUndefinedRules() || changed
	}
	return nil
}

type undefinedFolder struct {
	c         *ast.Compiler
	undefined []ast.Ref       // documents known to be undefined
	done      map[string]bool // rules found undefined
}

func (f *undefinedFolder) isUndefined(ref ast.Ref) bool {
	for _, u := range f.undefined {
		if ref.HasPrefix(u) {
			return true
		}
	}
	return false
}

// never is the body of a branch that cannot hold.
func never(loc *ast.Location) ast.Body {
	e := ast.NewExpr(ast.BooleanTerm(false))
	e.Location = loc
	return ast.NewBody(e)
}

func isNever(b ast.Body) bool {
	return len(b) == 1 && !b[0].Negated && b[0].Terms != nil && ast.BooleanTerm(false).Equal(termOf(b[0]))
}

func termOf(e *ast.Expr) *ast.Term {
	t, _ := e.Terms.(*ast.Term)
	return t
}

// foldRule folds the bodies of r's branches and drops the branches that can
// never hold, reporting whether anything changed.
func (f *undefinedFolder) foldRule(r *ast.Rule) bool {
	changed := false
	for b := r; b != nil; b = b.Else {
		if body, ok := f.foldBody(b.Body); ok {
			b.Body, changed = body, true
		}
	}
	// Drop else branches that never hold; lift the next branch into a
	// first branch that never holds (rules only: a function's branches
	// bind their own argument variables).
	for b := r; b != nil && b.Else != nil; {
		if isNever(b.Else.Body) {
			b.Else, changed = b.Else.Else, true
			continue
		}
		b = b.Else
	}
	if isNever(r.Body) && r.Else != nil && len(r.Head.Args) == 0 {
		next := r.Else
		r.Head.Value, r.Body, r.Else = next.Head.Value, next.Body, next.Else
		changed = true
	}
	return changed
}

// foldBody returns the folded body and whether it differs from body.
func (f *undefinedFolder) foldBody(body ast.Body) (ast.Body, bool) {
	if isNever(body) {
		return body, false
	}
	var kept ast.Body
	for _, expr := range body {
		switch {
		case !expr.Negated && f.refersToUndefined(expr):
			return never(body[0].Location), true
		case expr.Negated && len(expr.With) == 0 && f.isUndefinedTerm(termOf(expr)):
			continue // not X, X undefined: always holds
		}
		kept = append(kept, expr)
	}
	if len(kept) == len(body) {
		return body, false
	}
	if len(kept) == 0 {
		e := ast.NewExpr(ast.BooleanTerm(true))
		e.Location = body[0].Location
		kept = append(kept, e)
	}
	for i, e := range kept {
		e.Index = i
	}
	return kept, true
}

func (f *undefinedFolder) isUndefinedTerm(t *ast.Term) bool {
	if t == nil {
		return false
	}
	ref, ok := t.Value.(ast.Ref)
	return ok && f.isUndefined(ref)
}

// refersToUndefined reports whether expr refers to an undefined document
// outside any closure, where that makes expr itself undefined.
func (f *undefinedFolder) refersToUndefined(expr *ast.Expr) bool {
	found := false
	ast.NewGenericVisitor(func(x any) bool {
		switch x := x.(type) {
		case *ast.ArrayComprehension, *ast.SetComprehension, *ast.ObjectComprehension, *ast.Every:
			return true // undefined inside a closure is not failure outside
		case ast.Ref:
			found = found || f.isUndefined(x)
		}
		return found
	}).Walk(expr)
	return found
}

// markUndefinedRules adds every single-valued rule and function whose every
// definition never holds, and that has no default, to the undefined
// documents.
func (f *undefinedFolder) markUndefinedRules() bool {
	changed := false
	for _, mod := range f.c.Modules {
		for _, r := range mod.Rules {
			ref := r.Ref()
			key := ref.String()
			if f.done[key] || !ref.IsGround() || r.Head.RuleKind() != ast.SingleValue {
				continue
			}
			all := f.c.GetRulesExact(ref)
			dead := len(all) > 0
			for _, other := range all {
				dead = dead && !other.Default && other.Else == nil && isNever(other.Body)
			}
			if dead {
				f.done[key] = true
				f.undefined = append(f.undefined, ref)
				changed = true
			}
		}
	}
	return changed
}
