package rego

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/print"

	"github.com/pingauthz/pingauthz/internal/config"
)

// Engine evaluates the decision policy. It is safe for concurrent use:
// Decide calls run in parallel, and SetDirectory swaps the directory
// atomically between them. The policy set is held behind an atomic pointer,
// so a checked set can replace it between decisions.
type Engine struct {
	set    atomic.Pointer[PolicySet]
	mu     sync.Mutex // serializes directory writes
	logger hclog.Logger
}

// Option configures New and Check.
type Option func(*options)

type options struct {
	logger  hclog.Logger
	modules []Module
}

// WithLogger sends policy errors (at error level), ignored whitelist keys
// (at warn level) and Rego print output (at debug level) to l. The default
// discards them.
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

// New runs Check on the effective policy set of cfg, without its tests
// (*_test.rego; RunTests runs them), and returns an Engine that evaluates
// it. Check's errors name the file and line, or the probe login. The
// directory starts empty, so until SetDirectory every new user is denied.
func New(ctx context.Context, cfg *config.Config, opts ...Option) (*Engine, error) {
	o := options{logger: hclog.NewNullLogger()}
	for _, opt := range opts {
		opt(&o)
	}
	set, err := Check(ctx, cfg, opts...)
	if err != nil {
		return nil, err
	}
	e := &Engine{logger: o.logger}
	e.set.Store(set)
	return e, nil
}

// Revision identifies the compiled policy set (see Revision).
func (e *Engine) Revision() string { return e.set.Load().Revision() }

// Modules returns the compiled policy set, sorted by Path.
func (e *Engine) Modules() []Module { return e.set.Load().Modules() }

// SetDirectory replaces the directory the decisions consult, with lookup
// indexes built once here. A whitelist key that is not a valid address or
// domain (package email) matches no login; it is logged as a warning and
// left out of the index. On error the previous directory stays.
func (e *Engine) SetDirectory(ctx context.Context, dir *sso.Directory) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.set.Load().setDirectory(ctx, dir, e.logger)
}

// setDirectory writes dir into the set's store.
func (s *PolicySet) setDirectory(ctx context.Context, dir *sso.Directory, logger hclog.Logger) error {
	v, ignored, err := directoryValue(dir)
	if err != nil {
		return err
	}
	for _, key := range ignored {
		logger.Warn("whitelist entry matches no login: not a plain ASCII address or domain (write a Unicode domain in its xn-- form)", "entry", key)
	}
	if err := storage.WriteOne(ctx, s.store, storage.AddOp, storage.Path{"clearml", "directory"}, v); err != nil {
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
	return e.set.Load().decide(ctx, in)
}

// decide evaluates the decision for in, and validates the extension rules'
// values when the set has any.
func (s *PolicySet) decide(ctx context.Context, in *sso.Input) (*sso.Decision, *PolicyError, error) {
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
	rs, err := s.query.Eval(ctx,
		oparego.EvalParsedInput(input),
		oparego.EvalGenerateJSON(keepTerm),
		oparego.EvalExternalCancel(cancel),
		oparego.EvalMetrics(metrics.NoOp()),
	)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, nil, fmt.Errorf("rego: decide: %w", ctxErr)
		}
		return s.policyError("evaluation failed", err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return s.policyError(DecisionQuery+" is undefined", nil)
	}
	if len(rs) > 1 {
		return s.policyError(DecisionQuery+" has more than one value", nil)
	}
	term, ok := rs[0].Expressions[0].Value.(*ast.Term)
	if !ok {
		return s.policyError(fmt.Sprintf("unexpected result type %T", rs[0].Expressions[0].Value), nil)
	}
	if len(rs[0].Expressions) > 1 {
		if ext, ok := rs[0].Expressions[1].Value.(*ast.Term); ok {
			if msg := s.extension.validate(ext.Value); msg != "" {
				d, perr, err := s.policyError(msg, nil)
				perr.extension = true
				return d, perr, err
			}
		}
	}
	d, msg := decodeDecision(term.Value, in)
	if msg != "" {
		return s.policyError(msg, nil)
	}
	return d, nil, nil
}

func (s *PolicySet) policyError(detail string, err error) (*sso.Decision, *PolicyError, error) {
	return denyDecision(sso.ReasonPolicyError), &PolicyError{Revision: s.revision, Detail: detail, Err: err}, nil
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
