package provider

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/dirwatch"
	"github.com/pingauthz/pingauthz/internal/policybundle"
	"github.com/pingauthz/pingauthz/plugin"
	"github.com/pingauthz/pingauthz/rego"
)

// ErrPolicyUnchanged is a reload that found the active policy set.
var ErrPolicyUnchanged = errUnchanged

// startPolicy compiles the first policy set, opens the decision log and
// starts watching policy__dir.
func (p *Provider) startPolicy(ctx context.Context, cfg *config.Config, opts Options) error {
	var src *policybundle.Source
	mods, bundleRev, err := []rego.Module(nil), "", error(nil)
	if cfg.PolicyBundle != "" {
		src, err = policybundle.Open(ctx, cfg, policybundle.RemoteOptions{Manual: opts.pollBundleManually}, p.log.Named("policy_bundle"))
		if err != nil {
			return err
		}
		bundleRev = src.Initial.Revision
		mods, err = rego.EffectiveModulesWith(cfg, src.Initial.Modules)
	} else {
		mods, err = rego.EffectiveModules(cfg)
	}
	if err != nil {
		return err
	}
	if p.policy, err = newPolicySet(ctx, cfg, p.log, mods, bundleRev); err != nil {
		return err
	}
	if p.dlog, err = openDecisionLog(ctx, cfg, p.log, opts.DecisionLogMaxDelay); err != nil {
		return err
	}
	if p.dlog != nil {
		p.policy.onSwap = func(a *activeSet) { p.setMask(a) }
		p.setMask(p.policy.current())
	}
	switch {
	case cfg.PolicyDir != "":
		return p.watchDir(cfg.PolicyDir, opts, func(ctx context.Context) error { return p.reloadDir(ctx, cfg) })
	case src != nil && src.Remote != nil:
		p.bundle = src.Remote
		return src.Started(context.Background(), func(ctx context.Context, u *policybundle.Update) error {
			err := p.activateBundle(ctx, cfg, u)
			if opts.OnReload != nil {
				opts.OnReload(err)
			}
			return err
		})
	case src != nil:
		// A local bundle: reload when its file or directory changes.
		dir := cfg.PolicyBundle
		if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
			dir = filepath.Dir(dir)
		}
		return p.watchDir(dir, opts, func(ctx context.Context) error { return p.reloadLocalBundle(ctx, cfg) })
	}
	return nil
}

// activateBundle activates a downloaded bundle and caches it once active.
func (p *Provider) activateBundle(ctx context.Context, cfg *config.Config, u *policybundle.Update) error {
	mods, err := rego.EffectiveModulesWith(cfg, u.Bundle.Modules)
	if err != nil {
		p.policy.reject("policy__bundle", err)
		return err
	}
	err = p.policy.activate(ctx, mods, u.Bundle.Revision, "policy__bundle")
	if err != nil && !errors.Is(err, errUnchanged) {
		return err
	}
	if perr := p.bundle.Persist(u); perr != nil {
		p.log.Warn("the policy bundle is active but not cached", "error", perr)
	}
	return err
}

// reloadLocalBundle reads a local bundle again and activates it if it
// changed; a bundle that fails verification is rejected.
func (p *Provider) reloadLocalBundle(ctx context.Context, cfg *config.Config) error {
	vc, err := policybundle.Verification(cfg.PolicyBundlePublicKey)
	var b *policybundle.Bundle
	if err == nil {
		b, err = policybundle.LoadFile(cfg.PolicyBundle, vc)
	}
	var mods []rego.Module
	if err == nil {
		mods, err = rego.EffectiveModulesWith(cfg, b.Modules)
	}
	if err != nil {
		p.policy.reject("policy__bundle", err)
		return err
	}
	return p.policy.activate(ctx, mods, b.Revision, "policy__bundle")
}

// watchDir calls reload after each debounced change under dir.
func (p *Provider) watchDir(dir string, opts Options, reload func(context.Context) error) error {
	w, err := dirwatch.New(dir, dirwatch.Options{After: opts.ReloadAfter, Logger: p.log.Named("policy_watch")})
	if err != nil {
		return err
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer w.Close()
		for {
			select {
			case <-p.stop:
				return
			case <-w.Changes():
			}
			err := reload(context.Background())
			if opts.OnReload != nil {
				opts.OnReload(err)
			}
		}
	}()
	return nil
}

// reloadDir reads policy__dir again and activates the set if it changed.
func (p *Provider) reloadDir(ctx context.Context, cfg *config.Config) error {
	mods, err := rego.EffectiveModules(cfg)
	if err != nil {
		p.policy.reject("policy__dir", err)
		return err
	}
	return p.policy.activate(ctx, mods, "", "policy__dir")
}

// stats gathers the counters for Info.
func (p *Provider) stats() plugin.Stats {
	s := plugin.Stats{
		PolicyReloads:        p.policy.reloads.Load(),
		PolicyReloadFailures: p.policy.failures.Load(),
		PolicyLastError:      p.policy.lastError(),
		Goroutines:           int64(runtime.NumGoroutine()),
	}
	if p.dlog != nil {
		d := p.dlog.Stats()
		s.DecisionLogEvents, s.DecisionLogMaskFailures = d.Events, d.MaskFailures
		s.DecisionLogBuffered, s.DecisionLogDropped = d.Buffered, d.Dropped
		s.DecisionLogChunksUploaded, s.DecisionLogUploadFailures = d.ChunksUploaded, d.UploadFailures
	}
	return s
}

// CloseTimeout bounds the final decision-log upload in Close; go-plugin
// kills a plugin that has not exited 2 s after the host ends it.
const CloseTimeout = 1500 * time.Millisecond

// closePolicy stops watching the policy and flushes the decision log to
// its collector.
func (p *Provider) closePolicy() error {
	var err error
	p.closeOnce.Do(func() {
		close(p.stop)
		p.wg.Wait()
		if p.bundle != nil {
			p.bundle.Stop(context.Background())
		}
		if p.dlog != nil {
			ctx, cancel := context.WithTimeout(context.Background(), CloseTimeout)
			defer cancel()
			err = p.dlog.Close(ctx)
		}
	})
	return err
}
