package rego

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/tester"
)

func runModules(t *testing.T, mods []Module, opts TestOptions) ([]*tester.Result, error) {
	t.Helper()
	parsed, err := ParseModules(mods)
	if err != nil {
		return nil, err
	}
	ch, err := RunTests(context.Background(), parsed, map[string]any{"limits": map[string]any{"max": 2}}, opts)
	if err != nil {
		return nil, err
	}
	var out []*tester.Result
	for r := range ch {
		out = append(out, r)
	}
	return out, nil
}

func TestRunTests(t *testing.T) {
	mods := []Module{
		{Path: "p.rego", File: "p.rego", Source: []byte("package p\n\nsmall(x) if x <= data.limits.max\n")},
		{Path: "p_test.rego", File: "p_test.rego", Source: []byte(
			"package p_test\n\nimport data.p\n\ntest_small if p.small(1)\n\ntest_large if p.small(3)\n")},
	}
	results, err := runModules(t, mods, TestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	outcome := map[string]bool{}
	for _, r := range results {
		outcome[r.Name] = r.Pass()
	}
	if len(outcome) != 2 || !outcome["test_small"] || outcome["test_large"] {
		t.Errorf("outcomes %v, want test_small pass and test_large fail", outcome)
	}

	results, err = runModules(t, mods, TestOptions{Run: "small"})
	if err != nil || len(results) != 1 {
		t.Errorf("filtered run: %d results, %v", len(results), err)
	}

	bad := append(mods, Module{Path: "q.rego", File: "q.rego", Source: []byte("package q\n\nx := y\n")})
	_, err = runModules(t, bad, TestOptions{})
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Errorf("compile error %T %v, want *CompileError", err, err)
	}
}

func TestRunTestsWithheldBuiltins(t *testing.T) {
	mods := []Module{
		{Path: "p.rego", File: "p.rego", Source: []byte("package p\n\nrt := opa.runtime()\n")},
		{Path: "p_test.rego", File: "p_test.rego", Source: []byte("package p_test\n\nimport data.p\n\ntest_env if is_object(p.rt)\n")},
	}
	_, err := runModules(t, mods, TestOptions{})
	var ce *CompileError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "p.rego:3: rego_compile_error: opa.runtime is withheld") {
		t.Errorf("error %v, want the withheld opa.runtime at p.rego:3", err)
	}
	results, err := runModules(t, mods, TestOptions{InsecureBuiltins: []string{"opa.runtime"}})
	if err != nil || len(results) != 1 || !results[0].Pass() {
		t.Errorf("opted in: %v, %v", results, err)
	}
}
