package rego

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/print"

	"github.com/pingauthz/pingauthz/internal/config"
)

// Engine evaluates the decision policy. It is safe for concurrent use:
// Decide calls run in parallel, and SetDirectory swaps the directory
// atomically between them.
type Engine struct {
	modules  []Module
	revision string
	compiler *ast.Compiler
	store    storage.Store
	query    oparego.PreparedEvalQuery
	logger   hclog.Logger
}

// Option configures New.
type Option func(*options)

type options struct {
	logger  hclog.Logger
	modules []Module
}

// WithLogger sends policy errors (at error level) and Rego print output (at
// debug level) to l. The default discards them.
func WithLogger(l hclog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithModules evaluates mods instead of EffectiveModules(cfg), e.g. a set
// written by policy render and edited. Of cfg, only PolicyInsecureBuiltins
// is read then (cfg may be nil).
func WithModules(mods []Module) Option {
	return func(o *options) { o.modules = slices.Clone(mods) }
}

// New compiles the effective policy set of cfg once, without its tests
// (*_test.rego; RunTests runs them), and prepares the decision query. A
// policy that does not parse or compile gives a *CompileError naming file
// and line; a set without a decision rule is an error too. The directory
// starts empty, so until SetDirectory every new user is denied.
func New(ctx context.Context, cfg *config.Config, opts ...Option) (*Engine, error) {
	o := options{logger: hclog.NewNullLogger()}
	for _, opt := range opts {
		opt(&o)
	}
	mods := o.modules
	if mods == nil {
		var err error
		if mods, err = EffectiveModules(cfg); err != nil {
			return nil, err
		}
	}
	var allowed []string
	if cfg != nil {
		allowed = cfg.PolicyInsecureBuiltins
	}
	compiler, err := compile(withoutTests(mods), allowed)
	if err != nil {
		return nil, err
	}
	empty, _, err := directoryValue(&sso.Directory{})
	if err != nil {
		return nil, err
	}
	store := inmem.NewFromObjectWithOpts(map[string]any{
		"clearml": map[string]any{"directory": empty},
	}, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))

	e := &Engine{
		modules:  mods,
		revision: Revision(mods),
		compiler: compiler,
		store:    store,
		logger:   o.logger,
	}
	r := oparego.New(
		oparego.Query(DecisionQuery),
		oparego.Compiler(compiler),
		oparego.Store(store),
		oparego.PrintHook(printHook{e.logger}),
		oparego.EnablePrintStatements(true),
	)
	if e.query, err = r.PrepareForEval(ctx); err != nil {
		return nil, fmt.Errorf("rego: prepare %s: %w", DecisionQuery, err)
	}
	return e, nil
}

// Revision identifies the compiled policy set (see Revision).
func (e *Engine) Revision() string { return e.revision }

// Modules returns the compiled policy set, sorted by Path.
func (e *Engine) Modules() []Module {
	out := make([]Module, len(e.modules))
	copy(out, e.modules)
	return out
}

// SetDirectory replaces the directory the decisions consult, with lookup
// indexes built once here. A whitelist key that is not a valid address or
// domain (package email) matches no login; it is logged as a warning and
// left out of the index. On error the previous directory stays.
func (e *Engine) SetDirectory(ctx context.Context, dir *sso.Directory) error {
	v, ignored, err := directoryValue(dir)
	if err != nil {
		return err
	}
	for _, key := range ignored {
		e.logger.Warn("whitelist entry matches no login: not a plain ASCII address or domain (write a Unicode domain in its xn-- form)", "entry", key)
	}
	if err := storage.WriteOne(ctx, e.store, storage.AddOp, storage.Path{"clearml", "directory"}, v); err != nil {
		return fmt.Errorf("rego: set directory: %w", err)
	}
	return nil
}

// Decide evaluates data.clearml.sso.decision for one login. When the policy
// misbehaves (see PolicyError) it logs the detail and returns a deny with
// sso.ReasonPolicyError and a nil error; it never allows then. The error is for
// a nil input or a cancelled context.
func (e *Engine) Decide(ctx context.Context, in *sso.Input) (*sso.Decision, error) {
	d, perr, err := e.DecideDetail(ctx, in)
	if perr != nil {
		e.logger.Error("decision policy error; login denied", "revision", perr.Revision, "error", perr.Error())
	}
	return d, err
}

// DecideDetail is Decide that returns a policy error's detail instead of
// logging it. When it is non-nil, the decision is the policy_error deny.
func (e *Engine) DecideDetail(ctx context.Context, in *sso.Input) (*sso.Decision, *PolicyError, error) {
	if in == nil {
		return nil, nil, errors.New("rego: decide: nil input")
	}
	input, err := inputValue(in)
	if err != nil {
		return nil, nil, err
	}
	// OPA notices a cancelled context asynchronously; a short evaluation
	// can finish first, so check before starting.
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("rego: decide: %w", err)
	}
	// Cancelling through AfterFunc spares the goroutine OPA would start
	// per evaluation to watch ctx; the metrics are not read.
	cancel := topdown.NewCancel()
	stop := context.AfterFunc(ctx, cancel.Cancel)
	defer stop()
	rs, err := e.query.Eval(ctx,
		oparego.EvalParsedInput(input),
		oparego.EvalGenerateJSON(keepTerm),
		oparego.EvalExternalCancel(cancel),
		oparego.EvalMetrics(metrics.NoOp()),
	)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, nil, fmt.Errorf("rego: decide: %w", ctxErr)
		}
		return e.policyError("evaluation failed", err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return e.policyError(DecisionQuery+" is undefined", nil)
	}
	if len(rs) > 1 {
		return e.policyError(DecisionQuery+" has more than one value", nil)
	}
	term, ok := rs[0].Expressions[0].Value.(*ast.Term)
	if !ok {
		return e.policyError(fmt.Sprintf("unexpected result type %T", rs[0].Expressions[0].Value), nil)
	}
	d, msg := decodeDecision(term.Value, in)
	if msg != "" {
		return e.policyError(msg, nil)
	}
	return d, nil, nil
}

func (e *Engine) policyError(detail string, err error) (*sso.Decision, *PolicyError, error) {
	return denyDecision(sso.ReasonPolicyError), &PolicyError{Revision: e.revision, Detail: detail, Err: err}, nil
}

// keepTerm hands the result over as the AST term, so it is checked without
// a conversion to Go values first.
func keepTerm(t *ast.Term, _ *oparego.EvalContext) (any, error) { return t, nil }

// printHook sends Rego print output to the logger.
type printHook struct{ logger hclog.Logger }

func (h printHook) Print(pctx print.Context, msg string) error {
	loc := ""
	if pctx.Location != nil {
		loc = pctx.Location.String()
	}
	h.logger.Debug("rego print", "location", loc, "message", msg)
	return nil
}
