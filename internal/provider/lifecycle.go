package provider

import (
	"context"
	"time"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/dirwatch"
	"github.com/pingauthz/pingauthz/plugin"
	"github.com/pingauthz/pingauthz/rego"
)

// ErrPolicyUnchanged is a reload that found the active policy set.
var ErrPolicyUnchanged = errUnchanged

// startPolicy compiles the first policy set, opens the decision log and
// starts watching policy__dir.
func (p *Provider) startPolicy(ctx context.Context, cfg *config.Config, opts Options) error {
	mods, err := rego.EffectiveModules(cfg)
	if err != nil {
		return err
	}
	if p.policy, err = newPolicySet(ctx, cfg, p.log, mods, ""); err != nil {
		return err
	}
	if p.dlog, err = openDecisionLog(ctx, cfg, p.log, opts.DecisionLogMaxDelay); err != nil {
		return err
	}
	if p.dlog != nil {
		p.policy.onSwap = func(a *activeSet) { p.setMask(a) }
		p.setMask(p.policy.current())
	}
	if cfg.PolicyDir != "" {
		return p.watchDir(cfg, opts)
	}
	return nil
}

// watchDir reloads the set after each debounced change under policy__dir.
func (p *Provider) watchDir(cfg *config.Config, opts Options) error {
	w, err := dirwatch.New(cfg.PolicyDir, dirwatch.Options{After: opts.ReloadAfter, Logger: p.log.Named("policy_watch")})
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
			err := p.reloadDir(context.Background(), cfg)
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
		if p.dlog != nil {
			ctx, cancel := context.WithTimeout(context.Background(), CloseTimeout)
			defer cancel()
			err = p.dlog.Close(ctx)
		}
	})
	return err
}
