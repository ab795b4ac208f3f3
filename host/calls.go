package host

// The plugin.Authenticator methods of Plugin: each call goes to the running
// plugin process, through do.

import (
	"context"
	"errors"
	"fmt"

	"github.com/pingauthz/pingauthz/plugin"
	"github.com/pingauthz/pingauthz/sso"
)

// Info implements plugin.Authenticator.
func (p *Plugin) Info(ctx context.Context) (*plugin.Info, error) {
	var out *plugin.Info
	err := p.do(ctx, "Info", true, func(ctx context.Context, a plugin.Authenticator) (err error) {
		out, err = a.Info(ctx)
		return err
	})
	return out, err
}

// Begin implements plugin.Authenticator.
func (p *Plugin) Begin(ctx context.Context, req *plugin.BeginRequest) (*plugin.BeginResponse, error) {
	var out *plugin.BeginResponse
	err := p.do(ctx, "Begin", true, func(ctx context.Context, a plugin.Authenticator) (err error) {
		out, err = a.Begin(ctx, req)
		return err
	})
	return out, err
}

// Complete implements plugin.Authenticator. It is not retried after a lost
// connection: the login state and code are single-use.
func (p *Plugin) Complete(ctx context.Context, req *plugin.CompleteRequest, lookup plugin.UserLookup) (*plugin.CompleteResponse, error) {
	var out *plugin.CompleteResponse
	err := p.do(ctx, "Complete", false, func(ctx context.Context, a plugin.Authenticator) (err error) {
		out, err = a.Complete(ctx, req, lookup)
		return err
	})
	return out, err
}

// Decide implements plugin.Authenticator.
func (p *Plugin) Decide(ctx context.Context, in *sso.Input) (*sso.Decision, error) {
	var out *sso.Decision
	err := p.do(ctx, "Decide", true, func(ctx context.Context, a plugin.Authenticator) (err error) {
		out, err = a.Decide(ctx, in)
		return err
	})
	return out, err
}

// SetDirectory implements plugin.Authenticator. Without Config.Directory,
// dir is also what every later restart pushes, even when this push fails
// because the plugin is down.
func (p *Plugin) SetDirectory(ctx context.Context, dir *sso.Directory) error {
	if dir == nil {
		return errors.New("host: SetDirectory: directory is nil")
	}
	p.pushMu.Lock()
	defer p.pushMu.Unlock()
	// Recorded first, so a restart that races with this push, or follows
	// its failure, pushes dir and not an older directory.
	p.mu.Lock()
	p.lastDir = dir
	p.mu.Unlock()
	return p.do(ctx, "SetDirectory", true, func(ctx context.Context, a plugin.Authenticator) error {
		return a.SetDirectory(ctx, dir)
	})
}

// PushDirectory reads Config.Directory and sends it to the plugin; call it
// after every change of companies, groups or whitelist. Pushes are applied
// in the order they are called.
func (p *Plugin) PushDirectory(ctx context.Context) error {
	if p.cfg.Directory == nil {
		return errors.New("host: PushDirectory: Config.Directory is nil")
	}
	p.pushMu.Lock()
	defer p.pushMu.Unlock()
	return p.do(ctx, "SetDirectory", true, func(ctx context.Context, a plugin.Authenticator) error {
		// Read after acquiring the instance, so a restart that pushed an
		// older read is followed by this newer one.
		dir, err := p.cfg.Directory(ctx)
		if err != nil {
			return fmt.Errorf("host: reading the directory to push: %w", err)
		}
		return a.SetDirectory(ctx, dir)
	})
}
