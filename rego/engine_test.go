package rego

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/internal/config"
)

func newTestEngine(t *testing.T, cfg config.Config, opts ...Option) *Engine {
	t.Helper()
	e, err := New(context.Background(), &cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEngineWithoutDirectory(t *testing.T) {
	e := newTestEngine(t, config.Default())
	ctx := context.Background()
	d, err := e.Decide(ctx, newUserInput())
	if err != nil || d.Allow || d.Reasons[0] != sso.ReasonNotWhitelisted {
		t.Errorf("new user before SetDirectory: %s, %v", jsonString(d), err)
	}
	d, err = e.Decide(ctx, &sso.Input{User: &sso.User{ID: "u", Company: "c1", Role: "user"}})
	if err != nil || !d.Allow || d.Reasons[0] != sso.ReasonExistingUser {
		t.Errorf("existing user before SetDirectory: %s, %v", jsonString(d), err)
	}
}

func TestEngineSetDirectoryReplaces(t *testing.T) {
	cfg := config.Default()
	cfg.Groups.Enabled = true
	e := newTestEngine(t, cfg)
	ctx := context.Background()
	in := &sso.Input{Identity: sso.Identity{Groups: []string{"A", "B"}}, User: &sso.User{ID: "u", Company: "c1"}}
	for _, tc := range []struct {
		groups []string
		want   string
	}{
		{[]string{"A"}, `["A"]`},
		{[]string{"B", "C"}, `["B"]`},
		{nil, `[]`},
	} {
		if err := e.SetDirectory(ctx, &sso.Directory{Companies: map[string]sso.Company{"c1": {Groups: tc.groups}}}); err != nil {
			t.Fatal(err)
		}
		d, err := e.Decide(ctx, in)
		if err != nil || jsonString(d.Groups) != tc.want {
			t.Errorf("directory %v: groups %s, want %s (%v)", tc.groups, jsonString(d.Groups), tc.want, err)
		}
	}
	// A rejected directory leaves the previous one in place.
	if err := e.SetDirectory(ctx, &sso.Directory{Companies: map[string]sso.Company{"": {}}}); err == nil {
		t.Fatal("bad directory accepted")
	}
	if err := e.SetDirectory(ctx, nil); err == nil {
		t.Fatal("nil directory accepted")
	}
	d, _ := e.Decide(ctx, in)
	if jsonString(d.Groups) != `[]` || !d.SyncGroups {
		t.Errorf("after a rejected directory: %s", jsonString(d))
	}
}

func TestEngineInputErrors(t *testing.T) {
	e := newTestEngine(t, config.Default())
	if _, err := e.Decide(context.Background(), nil); err == nil {
		t.Error("nil input accepted")
	}
	in := newUserInput()
	in.Identity.Claims = map[string]any{"bad": make(chan int)}
	if _, err := e.Decide(context.Background(), in); err == nil || !strings.Contains(err.Error(), "identity claims") {
		t.Errorf("unconvertible claim: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := e.Decide(ctx, newUserInput())
	if !errors.Is(err, context.Canceled) || d != nil {
		t.Errorf("cancelled context: %v, %v", d, err)
	}
}

func TestEngineRevisionAndModules(t *testing.T) {
	a := newTestEngine(t, config.Default())
	cfg := config.Default()
	cfg.DefaultCompany = "other"
	b := newTestEngine(t, cfg)
	if a.Revision() == b.Revision() {
		t.Error("different configurations share a revision")
	}
	if a.Revision() != Revision(a.Modules()) {
		t.Error("Revision differs from Revision(Modules())")
	}
	mods := a.Modules()
	mods[0].Path = "changed"
	if a.Modules()[0].Path == "changed" {
		t.Error("Modules returns the engine's slice")
	}
	c := newTestEngine(t, config.Default(), WithModules(a.Modules()))
	if c.Revision() != a.Revision() {
		t.Error("WithModules gives another revision for the same modules")
	}
}

func TestEnginePrintGoesToLogger(t *testing.T) {
	mods, err := EffectiveModules(ptr(config.Default()))
	if err != nil {
		t.Fatal(err)
	}
	mods = append(mods, Module{Path: "debug.rego", File: "debug.rego", Source: []byte(
		"package clearml.debug\n\nx if print(\"hello from\", input.identity.email)\n")})
	for i, m := range mods {
		if m.Path == "clearml/sso/decision.rego" {
			mods[i].Source = []byte(strings.Replace(string(m.Source), "\tis_object(input.user)\n",
				"\tdata.clearml.debug.x\n\tis_object(input.user)\n", 1))
		}
	}
	var logs bytes.Buffer
	e := newTestEngine(t, config.Default(), WithModules(mods),
		WithLogger(hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug})))
	if _, err := e.Decide(context.Background(), newUserInput()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "hello from new@nowhere.example") || !strings.Contains(logs.String(), "debug.rego:3") {
		t.Errorf("log %q lacks the print output and its location", logs.String())
	}
}

// TestEngineConcurrent runs decisions while the directory changes; run with
// -race. Every decision must match one of the two directories.
func TestEngineConcurrent(t *testing.T) {
	cfg := config.Default()
	cfg.Groups.Enabled = true
	cfg.DefaultCompany = "c1"
	e := newTestEngine(t, cfg)
	ctx := context.Background()
	dirs := []*sso.Directory{
		{Companies: map[string]sso.Company{"c1": {Groups: []string{"A"}}}},
		{Companies: map[string]sso.Company{"c1": {Groups: []string{"A", "B"}}}},
	}
	if err := e.SetDirectory(ctx, dirs[0]); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				in := &sso.Input{Identity: sso.Identity{Email: fmt.Sprintf("u%d-%d@x.example", w, i), Groups: []string{"A", "B"}}}
				d, err := e.Decide(ctx, in)
				if err != nil {
					errs <- err
					return
				}
				if g := jsonString(d.Groups); !d.Allow || (g != `["A"]` && g != `["A","B"]`) {
					errs <- fmt.Errorf("decision %s", jsonString(d))
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 50 {
			if err := e.SetDirectory(ctx, dirs[i%2]); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func ptr[T any](v T) *T { return &v }
