package rego

import (
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/pingauthz/pingauthz/internal/config"
)

// insecureBuiltinsKey is the setting that lets policies call withheld
// builtins.
const insecureBuiltinsKey = "policy__insecure_builtins"

// withheld reports whether policies may call the builtin only when the
// operator names it in policy__insecure_builtins: http.send and the net.*
// functions reach the network (net.lookup_ip_addr; the CIDR functions are
// pure and withheld with their namespace), and opa.runtime returns the
// process environment, client secret included.
func withheld(name string) bool {
	return name == "http.send" || name == "opa.runtime" || strings.HasPrefix(name, "net.")
}

// WithheldBuiltins lists the builtins policies may not call unless the
// operator opts in, sorted.
func WithheldBuiltins() []string {
	var out []string
	for _, b := range ast.CapabilitiesForThisVersion().Builtins {
		if withheld(b.Name) {
			out = append(out, b.Name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// capabilities returns OPA's capabilities without the withheld builtins
// that allowed does not name. A name in allowed that is not withheld is an
// error: it is a typo or needs no opt-in.
func capabilities(allowed []string) (*ast.Capabilities, error) {
	withheldNames := WithheldBuiltins()
	for _, name := range allowed {
		if !slices.Contains(withheldNames, name) {
			return nil, fmt.Errorf("rego: %s names %q, which is not a withheld builtin; the withheld builtins are %s",
				config.VarName(insecureBuiltinsKey, false), name, strings.Join(withheldNames, ", "))
		}
	}
	caps := ast.CapabilitiesForThisVersion()
	caps.Builtins = slices.DeleteFunc(caps.Builtins, func(b *ast.Builtin) bool {
		return withheld(b.Name) && !slices.Contains(allowed, b.Name)
	})
	return caps, nil
}

// checkBuiltins reports every call of a withheld builtin that allowed does
// not name, with its file and line, so the message says what to do rather
// than the compiler's "undefined function".
func checkBuiltins(mods map[string]*ast.Module, allowed []string) ast.Errors {
	var errs ast.Errors
	report := func(op *ast.Term) {
		ref, ok := op.Value.(ast.Ref)
		if !ok {
			return
		}
		if name := ref.String(); withheld(name) && !slices.Contains(allowed, name) {
			errs = append(errs, ast.NewError(ast.CompileErr, op.Location,
				"%s is withheld from policies (%s); to allow it, set %s=[%q]",
				name, withheldReason(name), config.VarName(insecureBuiltinsKey, false), name))
		}
	}
	for _, file := range sortedKeys(mods) {
		// A call is a Call term inside an expression, or an expression
		// of its own (x = f(y) parses as the latter too).
		ast.WalkTerms(mods[file], func(t *ast.Term) bool {
			if call, ok := t.Value.(ast.Call); ok && len(call) > 0 {
				report(call[0])
			}
			return false
		})
		ast.WalkExprs(mods[file], func(e *ast.Expr) bool {
			if terms, ok := e.Terms.([]*ast.Term); ok && len(terms) > 0 {
				report(terms[0])
			}
			return false
		})
	}
	return errs
}

func withheldReason(name string) string {
	switch {
	case name == "opa.runtime":
		return "it returns the process environment, where the client secret is"
	case name == "http.send" || name == "net.lookup_ip_addr":
		return "it reaches the network"
	}
	return "the net.* builtins are withheld together"
}
