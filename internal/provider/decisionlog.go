package provider

import (
	"context"
	"os"
	"runtime/debug"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/decisionlog"
	"github.com/pingauthz/pingauthz/rego"
)

// decisionPath is the decision's path in the decision log.
const decisionPath = "clearml/sso/decision"

// openDecisionLog starts the decision log when a sink is configured.
func openDecisionLog(ctx context.Context, cfg *config.Config, log hclog.Logger, maxDelay time.Duration) (*decisionlog.Logger, error) {
	dc := cfg.DecisionLog
	if !dc.Enabled() {
		return nil, nil
	}
	id := dc.ServerID
	if id == "" {
		id, _ = os.Hostname()
	}
	o := decisionlog.Options{
		Logger:  log.Named("decision_log"),
		Console: dc.Console,
		File:    dc.File,
		URL:     dc.URL,
		Labels:  map[string]string{"id": id, "version": Version()},
	}
	if maxDelay > 0 {
		o.MaxDelay = maxDelay
	}
	return decisionlog.New(ctx, o)
}

// setMask gives the decision log the mask policy of a.
func (p *Provider) setMask(a *activeSet) {
	if err := p.dlog.SetCompiler(context.Background(), a.engine.Compiler()); err != nil {
		p.log.Error("decision log: the mask policy of the new set is not in use", "error", err)
	}
}

// logDecision records d. A failure is logged: the login goes on.
func (p *Provider) logDecision(ctx context.Context, a *activeSet, in *sso.Input, d *sso.Decision) {
	inAST, _ := rego.InputValue(in) // nil: the decision log converts the input itself
	ev := &decisionlog.Decision{
		ID:        d.DecisionID,
		Path:      decisionPath,
		Input:     in,
		InputAST:  inAST,
		Result:    d,
		Revision:  a.engine.Revision(),
		Timestamp: p.now(),
	}
	if a.bundle != "" {
		ev.Bundles = map[string]string{BundleName: a.bundle}
	}
	if err := p.dlog.Log(context.WithoutCancel(ctx), ev); err != nil {
		p.log.Error("decision not logged", "decision_id", d.DecisionID, "error", err)
	}
}

// BundleName names the policy bundle in decision-log events.
const BundleName = "pingauthz"

// Version is the version of this build: the module version, with the VCS
// revision when the build recorded one.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += "+" + s.Value[:12]
		}
	}
	return v
}
