// Package demo runs the whole login on one machine: the Ping emulator
// (PingOne flavor) with demo accounts, and the reference server with a fresh
// database in a temporary directory and the real plugin process. `pingauthz
// demo` and the end-to-end tests share it. Everything binds to loopback; it
// is not meant for real users or real identity providers.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/server"
)

// Defaults of Options.
const (
	DefaultListen    = "127.0.0.1:8080"
	DefaultIdPListen = "127.0.0.1:0"
	// ClientID is the OAuth client the demo registers at the emulator.
	ClientID = "pingauthz-demo"
)

// Options configure Start. Every field is optional.
type Options struct {
	// Listen is the server's address; it must be a loopback address.
	// Empty means DefaultListen.
	Listen string
	// IdPListen is the emulator's address; it must be a loopback address.
	// Empty means DefaultIdPListen.
	IdPListen string
	// PluginPath is the plugin binary; empty means PluginFor's search
	// (which may build it).
	PluginPath string
	// Users are the emulator's accounts; nil means DefaultUsers.
	Users []pingemu.User
	// Env holds CLEARML__ variables ("NAME=value") that replace the demo's
	// setting of the same variable or add to them, e.g. PolicyEnv's. The
	// emulator sends the groups claim they name, as DNs with
	// groups__from_dn.
	Env []string
	// Logger gets the server's and plugin's log; nil discards it.
	Logger hclog.Logger
	// Progress gets progress messages (building the plugin); nil discards.
	Progress io.Writer
	// Dir is where the database (and a built plugin) go; empty means a new
	// temporary directory that Close removes. A given Dir is not removed.
	Dir string
	// DBPath overrides the database file; empty means Dir/pingauthz.db.
	DBPath string
	// DirectoryPoll is server.Config.DirectoryPoll.
	DirectoryPoll time.Duration
}

// Demo is a running demo. Close stops it.
type Demo struct {
	// URL is the server's origin, e.g. http://127.0.0.1:8080.
	URL string
	// IdP is the Ping emulator.
	IdP *pingemu.Server
	// Server is the reference server (store, plugin, handler).
	Server *server.Server
	// Users are the emulator's accounts.
	Users []pingemu.User
	// Dir holds the database; DBPath is the database file.
	Dir, DBPath string
	// PluginPath is the plugin binary in use.
	PluginPath string
	// Env is the CLEARML__ configuration given to the plugin, Config the
	// configuration it loads into and Warnings what loading it warned of.
	Env      []string
	Config   *config.Config
	Warnings []config.Warning
	// Companies are the companies seeded, CompanyID first.
	Companies []string
	// Policy is the policy set the plugin runs.
	Policy Policy
	// Expected says, by username, what a first login decides.
	Expected map[string]string

	ln      net.Listener
	tempDir bool
	cancel  context.CancelFunc
	done    chan struct{}
	err     error
	once    sync.Once
	closeEr error
}

// Start starts the emulator, seeds a fresh database with the demo company,
// starts the plugin and serves the server until Close. On error nothing is
// left running and the temporary directory is removed.
func Start(ctx context.Context, opts Options) (_ *Demo, err error) {
	if opts.Listen == "" {
		opts.Listen = DefaultListen
	}
	if opts.IdPListen == "" {
		opts.IdPListen = DefaultIdPListen
	}
	if err := RequireLoopback("--listen", opts.Listen); err != nil {
		return nil, err
	}
	if err := RequireLoopback("--idp-listen", opts.IdPListen); err != nil {
		return nil, err
	}
	if opts.Users == nil {
		opts.Users = DefaultUsers()
	}
	// The cleanups below refer to d, which must outlive "return nil, err".
	d := &Demo{Users: opts.Users, Dir: opts.Dir, done: make(chan struct{})}
	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()
	if d.Dir == "" {
		if d.Dir, err = os.MkdirTemp("", "pingauthz-demo-"); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		d.tempDir = true
		cleanup = append(cleanup, func() { _ = os.RemoveAll(d.Dir) })
	}
	d.DBPath = opts.DBPath
	if d.DBPath == "" {
		d.DBPath = filepath.Join(d.Dir, "pingauthz.db")
	}
	if d.PluginPath, err = PluginFor(ctx, opts.PluginPath, d.Dir, opts.Progress); err != nil {
		return nil, err
	}

	// Listen first: the callback URL registered at the emulator needs the port.
	if d.ln, err = net.Listen("tcp", opts.Listen); err != nil {
		return nil, fmt.Errorf("demo: --listen %s: %w", opts.Listen, err)
	}
	cleanup = append(cleanup, func() { _ = d.ln.Close() })
	d.URL = "http://" + d.ln.Addr().String()

	secret, err := randomHex(24)
	if err != nil {
		return nil, err
	}
	if d.IdP, err = pingemu.Start(pingemu.Options{
		Flavor: pingemu.PingOne,
		Addr:   opts.IdPListen,
		Users:  opts.Users,
		Clients: []pingemu.Client{{
			ID: ClientID, Secret: secret,
			RedirectURIs: []string{d.URL + host.CallbackPath},
			PKCE:         pingemu.PKCES256Required,
		}},
	}); err != nil {
		return nil, fmt.Errorf("demo: starting the Ping emulator: %w", err)
	}
	cleanup = append(cleanup, func() { _ = d.IdP.Close() })

	d.Env = mergeEnv(Env(d.IdP, secret), opts.Env)
	if d.Config, d.Warnings, err = config.Load(d.Env); err != nil {
		return nil, fmt.Errorf("demo: the demo configuration is invalid: %w", err)
	}
	faults, err := emulatorFaults(d.Config)
	if err != nil {
		return nil, err
	}
	d.IdP.SetFaults(faults)
	if d.Policy, err = describePolicy(d.Config); err != nil {
		return nil, err
	}
	d.Companies = []string{CompanyID}
	if c := d.Config.DefaultCompany; c != "" && c != CompanyID {
		d.Companies = append(d.Companies, c)
	}
	srv, err := server.Open(ctx, server.Config{
		DBPath:     d.DBPath,
		PluginPath: d.PluginPath,
		// The plugin sees only d.Env of the CLEARML__ variables, never the
		// process's.
		PluginEnv:     append(withoutClearML(os.Environ()), d.Env...),
		SkipHostEnv:   true,
		PublicURL:     d.URL,
		Logger:        opts.Logger,
		DirectoryPoll: opts.DirectoryPoll,
	})
	if err != nil {
		return nil, err
	}
	d.Server = srv
	cleanup = append(cleanup, func() { _ = srv.Close() })
	if err := Seed(ctx, srv, d.Companies...); err != nil {
		return nil, err
	}
	info, err := srv.Plugin.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.Policy.Revision = info.PolicyRevision
	if d.Expected, err = d.expectations(ctx, d.Config); err != nil {
		return nil, err
	}

	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.cancel = cancel
	go func() {
		defer close(d.done)
		d.err = srv.Serve(sctx, d.ln)
	}()
	return d, nil
}

// Seed creates the companies (CompanyID when none is given), each with the
// demo groups; CompanyID is named CompanyName, another company
// "CompanyName (id)".
func Seed(ctx context.Context, srv *server.Server, companies ...string) error {
	if len(companies) == 0 {
		companies = []string{CompanyID}
	}
	for _, id := range companies {
		name := CompanyName
		if id != CompanyID {
			name = CompanyName + " (" + id + ")"
		}
		if err := srv.Store.AddCompany(ctx, id, name); err != nil {
			return fmt.Errorf("demo: seeding the database: %w", err)
		}
		for _, g := range CompanyGroups {
			if err := srv.Store.AddGroup(ctx, id, g); err != nil {
				return fmt.Errorf("demo: seeding the database: %w", err)
			}
		}
	}
	return nil
}

// Env returns the demo's CLEARML__ configuration for the emulator: PKCE,
// group and role sync with AdminGroup, sign-up only for members of an
// existing group, into CompanyID.
func Env(idp *pingemu.Server, secret string) []string {
	v := func(key string, secure bool, value string) string {
		return config.VarName(key, secure) + "=" + value
	}
	return append(config.RequiredEnv(idp.AuthorizeURL(), idp.TokenURL(), ClientID, secret),
		v("code_challenge", false, "true"),
		v("groups__enabled", false, "true"),
		v("groups__admins", false, `["`+AdminGroup+`"]`),
		v("groups__prohibit_user_signup_if_not_in_group", false, "true"),
		v("default_company", true, CompanyID),
	)
}

// Done is closed when the server has stopped serving.
func (d *Demo) Done() <-chan struct{} { return d.done }

// Close stops serving, the plugin and the emulator, and removes the
// temporary directory. It is idempotent.
func (d *Demo) Close() error {
	d.once.Do(func() {
		d.cancel()
		<-d.done
		var errs []error
		if d.err != nil && !errors.Is(d.err, net.ErrClosed) {
			errs = append(errs, d.err)
		}
		errs = append(errs, d.Server.Close(), d.IdP.Close())
		if d.tempDir {
			errs = append(errs, os.RemoveAll(d.Dir))
		}
		d.closeEr = errors.Join(errs...)
	})
	return d.closeEr
}

// RequireLoopback fails unless addr ("host:port") names a loopback host:
// a loopback IP or "localhost". flag names the setting in the error.
func RequireLoopback(flag, addr string) error {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q: %w", flag, addr, err)
	}
	if config.IsLoopback(h) {
		return nil
	}
	return fmt.Errorf("%s %q is not a loopback address; this test tool only listens on 127.0.0.1, ::1 or localhost", flag, addr)
}

// withoutClearML drops every CLEARML__ variable from environ.
func withoutClearML(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		if !strings.HasPrefix(strings.ToUpper(kv), config.EnvPrefix) {
			out = append(out, kv)
		}
	}
	return out
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	return hex.EncodeToString(b), nil
}
