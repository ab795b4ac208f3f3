package rego

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestOptions configures RunTests.
type TestOptions struct {
	// Run selects tests by a regular expression on their full name, as
	// opa test --run does; empty runs all.
	Run string
	// Trace records evaluation traces for verbose reports.
	Trace bool
	// Timeout bounds each test; zero means 5s, opa test's default.
	Timeout time.Duration
	// InsecureBuiltins are the withheld builtins the modules may call, as
	// Config.PolicyInsecureBuiltins (see WithheldBuiltins).
	InsecureBuiltins []string
}

// RunTests compiles modules with data as the base document and runs every
// test_ rule with OPA's tester, as opa test does. Results arrive on the
// channel, which closes when all ran; the caller must drain it (for example
// with tester.PrettyReporter.Report).
// A compile error, a call of a withheld builtin included, is returned as a
// *CompileError.
func RunTests(ctx context.Context, modules map[string]*ast.Module, data map[string]any, opts TestOptions) (chan *tester.Result, error) {
	if data == nil {
		data = map[string]any{}
	}
	caps, err := capabilities(opts.InsecureBuiltins)
	if err != nil {
		return nil, err
	}
	if errs := checkBuiltins(modules, opts.InsecureBuiltins); len(errs) > 0 {
		return nil, &CompileError{Errors: errs}
	}
	store := inmem.NewFromObjectWithOpts(data, inmem.OptRoundTripOnWrite(true))
	compiler := ast.NewCompiler().
		WithDefaultRegoVersion(ast.RegoV1).
		WithCapabilities(caps).
		WithEnablePrintStatements(true)
	runner := tester.NewRunner().
		SetCompiler(compiler).
		SetStore(store).
		SetDefaultRegoVersion(ast.RegoV1).
		CapturePrintOutput(true).
		EnableTracing(opts.Trace).
		StackTraces(true).
		SetModules(modules).
		SetTimeout(cmp.Or(opts.Timeout, 5*time.Second)).
		Filter(opts.Run)
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, fmt.Errorf("rego: tests: %w", err)
	}
	ch, err := runner.RunTests(ctx, txn)
	if err != nil {
		store.Abort(ctx, txn)
		if errs, ok := err.(ast.Errors); ok {
			return nil, &CompileError{Errors: errs}
		}
		return nil, fmt.Errorf("rego: tests: %w", err)
	}
	out := make(chan *tester.Result)
	go func() {
		defer close(out)
		defer store.Abort(ctx, txn)
		for r := range ch {
			out <- r
		}
	}()
	return out, nil
}
