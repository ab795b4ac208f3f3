// Package provider is the plugin's Authenticator: the Ping relying party
// for Begin and Complete and the Rego decision engine for SetDirectory and
// Decide. It reloads the policy set when policy__dir changes, keeping the
// last good set, and logs every decision to the decision log when one is
// configured. It holds no sessions and does not talk to the host's
// directory.
package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/decisionlog"
	"github.com/pingauthz/pingauthz/internal/policybundle"
	"github.com/pingauthz/pingauthz/plugin"
	"github.com/pingauthz/pingauthz/plugin/ping"
)

// CallbackPath is the host path Ping redirects back to.
const CallbackPath = "/callback_" + config.Provider

// Options configure a Provider. Every field is optional.
type Options struct {
	// Logger gets the provider's log; nil discards. With Config.Debug,
	// every decision is logged with its reasons (never tokens or secrets).
	Logger hclog.Logger
	// HTTPClient calls Ping; nil means the relying party's default client.
	HTTPClient *http.Client
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// ReloadAfter starts the quiet period after policy__dir changes before
	// the set is reloaded; nil means time.After (dirwatch.DefaultDebounce).
	// OnReload, when set, is called after each reload with its outcome: nil
	// for a set activated, ErrPolicyUnchanged, or why the set was rejected.
	ReloadAfter func(time.Duration) <-chan time.Time
	OnReload    func(error)
	// DecisionLogMaxDelay bounds the wait between uploads to the decision
	// log collector; zero means decisionlog.DefaultMaxDelay.
	DecisionLogMaxDelay time.Duration

	// pollBundleManually turns the remote bundle's polling off; the
	// package's tests poll it themselves.
	pollBundleManually bool
}

// Provider implements plugin.Authenticator. It is safe for concurrent use;
// Close stops its background work.
type Provider struct {
	rp      *ping.RelyingParty
	policy  *policySet
	dlog    *decisionlog.Logger  // nil: no decision log
	bundle  *policybundle.Remote // nil: no remote bundle
	log     hclog.Logger
	debug   bool
	summary map[string]string
	now     func() time.Time

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

var _ plugin.Authenticator = (*Provider)(nil)

// New builds the relying party and compiles the decision policies for cfg.
// It does not contact Ping: discovery happens at the first login.
func New(ctx context.Context, cfg *config.Config, opts Options) (*Provider, error) {
	if cfg == nil {
		return nil, errors.New("provider: no configuration")
	}
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	rp, err := ping.New(ctx, ping.Options{
		Config:     cfg,
		HTTPClient: opts.HTTPClient,
		Logger:     log.Named("ping"),
		Now:        opts.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	p := &Provider{rp: rp, log: log, debug: cfg.Debug, summary: cfg.Summary(), now: opts.Now, stop: make(chan struct{})}
	if p.now == nil {
		p.now = time.Now
	}
	if err := p.startPolicy(ctx, cfg, opts); err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("provider: %w", err)
	}
	log.Info("provider ready", "provider", config.Provider, "policy_revision", p.policy.current().engine.Revision())
	return p, nil
}

// Close stops the relying party's background refresh of Ping's signing
// keys and waits for it. Logins that need keys not yet cached fail after it.
// It also stops watching the policy and uploads what the decision log
// still holds, for CloseTimeout at most.
func (p *Provider) Close() error {
	err := p.rp.Close()
	if perr := p.closePolicy(); err == nil {
		err = perr
	}
	return err
}

// Info implements plugin.Authenticator.
func (p *Provider) Info(context.Context) (*plugin.Info, error) {
	a := p.policy.current()
	return &plugin.Info{
		Provider:       config.Provider,
		CallbackPath:   CallbackPath,
		Config:         maps.Clone(p.summary),
		PolicyRevision: a.engine.Revision(),
		BundleRevision: a.bundle,
		Stats:          p.stats(),
	}, nil
}

// Begin implements plugin.Authenticator.
func (p *Provider) Begin(ctx context.Context, req *plugin.BeginRequest) (*plugin.BeginResponse, error) {
	if req == nil {
		return nil, invalidInput("Begin without a request")
	}
	authURL, sealed, err := p.rp.Begin(ctx, req.RedirectURI, req.ReturnTo)
	if err != nil {
		return nil, err
	}
	return &plugin.BeginResponse{AuthURL: authURL, SealedState: sealed}, nil
}

// Complete implements plugin.Authenticator: it finishes the login with the
// relying party, asks lookup for the existing user and decides, as Decide
// does (decision log included).
func (p *Provider) Complete(ctx context.Context, req *plugin.CompleteRequest, lookup plugin.UserLookup) (*plugin.CompleteResponse, error) {
	if req == nil || lookup == nil {
		return nil, invalidInput("Complete without a request or a user lookup")
	}
	query := make(url.Values, len(req.Query))
	for k, v := range req.Query {
		query.Set(k, v)
	}
	done, err := p.rp.Complete(ctx, req.RedirectURI, req.SealedState, query)
	if err != nil {
		return nil, err
	}
	user, err := lookup(ctx, done.Identity)
	if err != nil {
		return nil, err
	}
	d, err := p.Decide(ctx, &sso.Input{Identity: *done.Identity, User: user})
	if err != nil {
		return nil, err
	}
	id := *done.Identity
	id.Claims = nil
	return &plugin.CompleteResponse{Identity: id, Decision: d, ReturnTo: done.ReturnTo, State: done.State}, nil
}

// SetDirectory implements plugin.Authenticator.
func (p *Provider) SetDirectory(ctx context.Context, dir *sso.Directory) error {
	if dir == nil {
		return invalidInput("SetDirectory without a directory")
	}
	if err := p.policy.setDirectory(ctx, dir); err != nil {
		return err
	}
	if p.debug {
		groups := 0
		for _, c := range dir.Companies {
			groups += len(c.Groups)
		}
		p.log.Debug("directory set", "companies", len(dir.Companies), "groups", groups,
			"whitelisted_emails", len(dir.Whitelist.Emails), "whitelisted_domains", len(dir.Whitelist.Domains))
	}
	return nil
}

// Decide implements plugin.Authenticator.
func (p *Provider) Decide(ctx context.Context, in *sso.Input) (*sso.Decision, error) {
	if in == nil {
		return nil, invalidInput("Decide without an input")
	}
	a := p.policy.current()
	d, perr, err := a.engine.DecideDetail(ctx, in)
	if err != nil {
		p.log.Error("decision failed", "issuer", in.Identity.Issuer, "user_id", in.Identity.UserID, "error", err)
		return nil, err
	}
	if perr != nil {
		p.log.Named("rego").Error("decision policy error; login denied", "revision", perr.Revision, "error", perr.Error())
	}
	d.DecisionID = decisionlog.NewID()
	if p.dlog != nil {
		p.logDecision(ctx, a, in, d)
	}
	if p.debug {
		role := "(unchanged)"
		if d.Role != nil {
			role = *d.Role
		}
		p.log.Debug("decision", "issuer", in.Identity.Issuer, "user_id", in.Identity.UserID,
			"existing_user", in.User != nil, "allow", d.Allow, "signup", d.Signup, "company", d.Company,
			"role", role, "sync_groups", d.SyncGroups, "groups", d.Groups, "reasons", d.Reasons)
	}
	return d, nil
}

func invalidInput(msg string) error {
	return &plugin.LoginError{Kind: plugin.KindInvalidInput, Message: msg}
}
