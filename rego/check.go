package rego

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/sso"
)

// PolicySet is a policy set that compiled and passed Check, with its
// decision query prepared against a store of its own. It is immutable but
// for the directory in its store; an Engine evaluates one, and can be
// given another atomically.
type PolicySet struct {
	modules   []Module
	revision  string
	compiler  *ast.Compiler
	probed    []string // the probe logins the set passed
	store     storage.Store
	query     oparego.PreparedEvalQuery
	extension *extensionInfo
}

// Revision identifies the policy set (see Revision).
func (s *PolicySet) Revision() string { return s.revision }

// Modules returns the policy set, sorted by Path.
func (s *PolicySet) Modules() []Module {
	out := make([]Module, len(s.modules))
	copy(out, s.modules)
	return out
}

// Probed names the probe logins the set passed in Check.
func (s *PolicySet) Probed() []string { return append([]string(nil), s.probed...) }

// Extension lists the extension rules (package clearml.sso.extend) the
// policy set defines, in the order DESIGN.md gives them.
func (s *PolicySet) Extension() []string {
	return append([]string(nil), s.extension.defined...)
}

// Check is the one check a policy set passes before it decides any login;
// config check, policy test, the plugin and serve run it. It takes the
// effective set of cfg (or WithModules'), without its tests, and:
//
//   - compiles it with the withheld builtins left out unless
//     cfg.PolicyInsecureBuiltins names them (a *CompileError names file and
//     line);
//   - checks the extension rules of package clearml.sso.extend: known names,
//     kinds, types and literal codes (a *CompileError too);
//   - prepares the decision query against a store of its own, with an empty
//     directory;
//   - evaluates the decision on the built-in probe logins (see probes): an
//     evaluation error, an undefined decision, a decision of the wrong shape
//     or a malformed extension value is a *ProbeError naming the probe.
//
// cfg is read for PolicyInsecureBuiltins, and for the modules unless
// WithModules gives them.
func Check(ctx context.Context, cfg *config.Config, opts ...Option) (*PolicySet, error) {
	o := options{logger: hclog.NewNullLogger()}
	for _, opt := range opts {
		opt(&o)
	}
	set, compiler, err := build(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	if err := set.probe(ctx, compiler, o.logger); err != nil {
		return nil, err
	}
	return set, nil
}

// build is Check without the probe logins.
func build(ctx context.Context, cfg *config.Config, o options) (*PolicySet, *ast.Compiler, error) {
	mods := o.modules
	if mods == nil {
		var err error
		if mods, err = EffectiveModules(cfg); err != nil {
			return nil, nil, err
		}
	}
	var allowed []string
	if cfg != nil {
		allowed = cfg.PolicyInsecureBuiltins
	}
	compiler, err := compile(withoutTests(mods), allowed)
	if err != nil {
		return nil, nil, explainCompileError(compiler, mods, err)
	}
	ext, errs := extensionProblems(compiler)
	if len(errs) > 0 {
		return nil, nil, &CompileError{Errors: errs}
	}
	set := &PolicySet{modules: mods, revision: Revision(mods), compiler: compiler, extension: ext}
	if set.store, err = newStore(&sso.Directory{}); err != nil {
		return nil, nil, err
	}
	if set.query, err = prepare(ctx, compiler, set.store, ext, o.logger); err != nil {
		return nil, nil, err
	}
	return set, compiler, nil
}

// explainCompileError puts the extension rules' problems in place of the
// errors they cause in the default policies (a set rule of the wrong type
// fails the defaults' type check), keeping every error located in the
// operator's files.
func explainCompileError(c *ast.Compiler, mods []Module, err error) error {
	if c == nil {
		return err
	}
	_, extErrs := extensionProblems(c)
	if len(extErrs) == 0 {
		return err
	}
	ours := map[string]bool{}
	for _, m := range mods {
		ours[m.File] = m.Origin != OriginOverride
	}
	for _, e := range c.Errors {
		if e.Location == nil || !ours[e.Location.File] {
			extErrs = append(extErrs, e)
		}
	}
	return &CompileError{Errors: extErrs}
}

// newStore returns a store holding dir at data.clearml.directory.
func newStore(dir *sso.Directory) (storage.Store, error) {
	v, _, err := directoryValue(dir)
	if err != nil {
		return nil, err
	}
	return inmem.NewFromObjectWithOpts(map[string]any{
		"clearml": map[string]any{"directory": v},
	}, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true)), nil
}

// decisionQuery is the query a policy set evaluates: the decision and,
// when the set defines extension rules, their values for the login, to be
// validated.
func decisionQuery(ext *extensionInfo) string {
	if len(ext.defined) == 0 {
		return DecisionQuery
	}
	quoted := make([]string, len(ext.defined))
	for i, name := range ext.defined {
		quoted[i] = fmt.Sprintf("%q", name)
	}
	return fmt.Sprintf("%s; {name: value | some name in {%s}; value := %s[name]}",
		DecisionQuery, strings.Join(quoted, ", "), ExtensionPackage)
}

func prepare(ctx context.Context, c *ast.Compiler, store storage.Store, ext *extensionInfo, logger hclog.Logger) (oparego.PreparedEvalQuery, error) {
	r := oparego.New(
		oparego.Query(decisionQuery(ext)),
		oparego.Compiler(c),
		oparego.Store(store),
		oparego.PrintHook(printHook{logger}),
		oparego.EnablePrintStatements(true),
	)
	q, err := r.PrepareForEval(ctx)
	if err != nil {
		return q, fmt.Errorf("rego: prepare %s: %w", DecisionQuery, err)
	}
	return q, nil
}
