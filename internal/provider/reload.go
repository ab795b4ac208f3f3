package provider

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/rego"
)

// policySet holds the active decision engine and replaces it. A decision
// loads the engine once and evaluates it whole; a new set is compiled and
// checked aside, given the current directory, and only then swapped in, so
// no decision sees a half-loaded set and a broken set never replaces the
// last good one.
type policySet struct {
	cfg    *config.Config
	log    hclog.Logger
	active atomic.Pointer[activeSet]
	// onSwap runs after a new set is active (the decision log's mask).
	onSwap func(*activeSet)

	mu  sync.Mutex // serializes SetDirectory and swaps
	dir *sso.Directory

	reloads  atomic.Uint64
	failures atomic.Uint64
	lastErr  atomic.Pointer[string]
	rejected atomic.Pointer[string] // revision of the last rejected set
}

// activeSet is one activated policy set.
type activeSet struct {
	engine *rego.Engine
	// bundle is the manifest revision of the bundle it came from, or "".
	bundle string
}

// newPolicySet compiles the first set; its failure is New's.
func newPolicySet(ctx context.Context, cfg *config.Config, log hclog.Logger, mods []rego.Module, bundle string) (*policySet, error) {
	s := &policySet{cfg: cfg, log: log}
	e, err := s.prepare(ctx, mods)
	if err != nil {
		return nil, err
	}
	s.active.Store(&activeSet{engine: e, bundle: bundle})
	return s, nil
}

// current returns the active set.
func (s *policySet) current() *activeSet { return s.active.Load() }

// prepare compiles mods and runs the checks config check runs.
func (s *policySet) prepare(ctx context.Context, mods []rego.Module) (*rego.Engine, error) {
	return rego.New(ctx, s.cfg, rego.WithModules(mods), rego.WithLogger(s.log.Named("rego")))
}

// setDirectory gives the active engine a new directory and keeps it for
// the engines of later sets.
func (s *policySet) setDirectory(ctx context.Context, dir *sso.Directory) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.current().engine.SetDirectory(ctx, dir); err != nil {
		return err
	}
	s.dir = dir
	return nil
}

// errUnchanged is a reload that found the active set.
var errUnchanged = errors.New("provider: policy set unchanged")

// activate makes mods the active set if they compile and pass the checks.
// A rejected set is logged with its files and lines and counted; the
// active set stays. It returns errUnchanged when mods are the active set.
func (s *policySet) activate(ctx context.Context, mods []rego.Module, bundle, source string) error {
	old := s.current()
	rev := rego.Revision(mods)
	if rev == old.engine.Revision() && bundle == old.bundle {
		return errUnchanged
	}
	if r := s.rejected.Load(); r != nil && *r == rev+bundle {
		return errUnchanged // rejected before; logged and counted then
	}
	e, err := s.prepare(ctx, mods)
	if err == nil {
		err = s.swap(ctx, e, bundle)
	}
	if err != nil {
		key := rev + bundle
		s.rejected.Store(&key)
		s.reject(source, err)
		return err
	}
	s.rejected.Store(nil)
	s.reloads.Add(1)
	s.lastErr.Store(nil)
	s.log.Info("policy set activated", "source", source, "policy_revision", e.Revision(),
		"previous_revision", old.engine.Revision(), "bundle_revision", bundle)
	return nil
}

func (s *policySet) swap(ctx context.Context, e *rego.Engine, bundle string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir != nil {
		if err := e.SetDirectory(ctx, s.dir); err != nil {
			return fmt.Errorf("provider: the directory does not load into the new policy set: %w", err)
		}
	}
	a := &activeSet{engine: e, bundle: bundle}
	s.active.Store(a)
	if s.onSwap != nil {
		s.onSwap(a)
	}
	return nil
}

// reject records a set that was not activated.
func (s *policySet) reject(source string, err error) {
	s.failures.Add(1)
	msg := err.Error()
	s.lastErr.Store(&msg)
	s.log.Error("policy set rejected; the last good set stays active", "source", source,
		"active_revision", s.current().engine.Revision(), "error", msg)
}

// lastError is the rejection of the latest set, "" if it was activated.
func (s *policySet) lastError() string {
	if p := s.lastErr.Load(); p != nil {
		return *p
	}
	return ""
}
