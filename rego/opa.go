package rego

import (
	"github.com/pingauthz/pingauthz/sso"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Compiler returns the compiled policy set, for OPA plugins that evaluate
// other queries against the same policies (the decision log's mask policy,
// data.system.log.mask). The caller must not change it.
func (e *Engine) Compiler() *ast.Compiler { return e.set.Load().compiler }

// InputValue returns in as the policy input Decide evaluates.
func InputValue(in *sso.Input) (ast.Value, error) { return inputValue(in) }
