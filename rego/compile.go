package rego

import (
	"errors"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// DecisionQuery is the query every decision evaluates.
const DecisionQuery = "data.clearml.sso.decision"

// CompileError is a policy set that does not parse or compile. Each error
// names the file (Module.File) and line.
type CompileError struct {
	Errors ast.Errors
}

func (e *CompileError) Error() string {
	lines := make([]string, 0, len(e.Errors)+1)
	lines = append(lines, fmt.Sprintf("rego: policy set does not compile (%d error%s):", len(e.Errors), plural(len(e.Errors))))
	for _, err := range e.Errors {
		lines = append(lines, "  "+err.Error())
	}
	return strings.Join(lines, "\n")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ParseModules parses every module as Rego v1 and returns them keyed by
// Module.File. It reports every syntax error of every file at once, as a
// *CompileError. It does not compile.
func ParseModules(mods []Module) (map[string]*ast.Module, error) {
	parsed := make(map[string]*ast.Module, len(mods))
	var errs ast.Errors
	for _, m := range mods {
		pm, err := ast.ParseModuleWithOpts(m.File, string(m.Source), ast.ParserOptions{
			RegoVersion:       ast.RegoV1,
			ProcessAnnotation: true,
		})
		if err != nil {
			var astErrs ast.Errors
			var astErr *ast.Error
			switch {
			case errors.As(err, &astErrs):
				errs = append(errs, astErrs...)
				continue
			case errors.As(err, &astErr):
				errs = append(errs, astErr)
				continue
			}
			errs = append(errs, ast.NewError(ast.ParseErr, &ast.Location{File: m.File}, "%v", err))
			continue
		}
		if pm == nil {
			errs = append(errs, ast.NewError(ast.ParseErr, &ast.Location{File: m.File}, "empty module: no package"))
			continue
		}
		parsed[m.File] = pm
	}
	if len(errs) > 0 {
		return nil, &CompileError{Errors: errs}
	}
	return parsed, nil
}

// compile parses and compiles mods, with the config constants folded (see
// foldConfigStage), and checks that a rule defines the decision. A call of
// a withheld builtin that allowed does not name is a *CompileError. When
// the modules parse but do not compile, the failed compiler is returned
// with the error, for a closer look at the cause.
func compile(mods []Module, allowed []string) (*ast.Compiler, error) {
	caps, err := capabilities(allowed)
	if err != nil {
		return nil, err
	}
	parsed, err := ParseModules(mods)
	if err != nil {
		return nil, err
	}
	if errs := checkBuiltins(parsed, allowed); len(errs) > 0 {
		return nil, &CompileError{Errors: errs}
	}
	c := ast.NewCompiler().
		WithDefaultRegoVersion(ast.RegoV1).
		WithCapabilities(caps).
		WithEnablePrintStatements(true).
		WithStageAfterID(ast.StageCheckTypes, foldConfigStage).
		WithStageAfterID(ast.StageCheckTypes, foldExtensionStage)
	if c.Compile(parsed); c.Failed() {
		return c, &CompileError{Errors: c.Errors}
	}
	if len(c.GetRulesExact(ast.MustParseRef(DecisionQuery))) == 0 {
		return nil, fmt.Errorf("rego: no rule defines %s", DecisionQuery)
	}
	return c, nil
}
