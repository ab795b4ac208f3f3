package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/metrics"
	"github.com/pingauthz/pingauthz/internal/server"
	"github.com/pingauthz/pingauthz/rego"
)

const serveUsage = `Usage: pingauthz serve --db PATH [flags]

Runs the reference server: the login pages on --listen, users in --db (a
SQLite file or a postgres:// URL), and the plugin process doing the Ping login. The Ping settings come
from the CLEARML__... environment and are checked before anything starts.
The callback URL to register at Ping is <public-url>` + host.CallbackPath + `.

Flags:
`

// serveFlags are the parsed flags of `pingauthz serve`.
type serveFlags struct {
	listen, publicURL, db  string
	metricsListen          string
	pluginPath, pluginSHA  string
	logLevel               string
	directoryPoll, session time.Duration
	sessionIdle            time.Duration
	insecureHTTP           bool
	rateLimit              *host.RateLimit
	trustedProxies         []netip.Prefix
}

func parseServeFlags(args []string, env *cliEnv) (*serveFlags, error) {
	f := &serveFlags{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "`address` to listen on")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "serve Prometheus metrics at /metrics on this `address`, a listener of its own, e.g. 127.0.0.1:9090 (default: off)")
	fs.StringVar(&f.publicURL, "public-url", "", "external origin of the server, e.g. https://clearml.example.com (default: http://<listen address>)")
	fs.StringVar(&f.db, "db", "", "the directory: a SQLite database `file` (created when absent) or a postgres:// URL (required)")
	fs.StringVar(&f.pluginPath, "plugin", "", "plugin binary `path`, resolved once to an absolute path with symlinks resolved; a bare name is a file in the working directory, never looked up on PATH (default: "+server.PluginName+" next to this executable)")
	fs.StringVar(&f.pluginSHA, "plugin-sha256", "", "expected SHA-256 of the plugin binary, in `hex`; checked before every launch")
	fs.DurationVar(&f.directoryPoll, "directory-poll", server.DefaultDirectoryPoll, "how often to look for directory changes made by another process, e.g. the admin command (0 turns it off)")
	fs.DurationVar(&f.session, "session-ttl", host.DefaultSessionTTL, "session lifetime")
	fs.DurationVar(&f.sessionIdle, "session-idle", 0, "end a session unused for this `duration`, e.g. 30m (0: sessions end only at --session-ttl)")
	fs.BoolVar(&f.insecureHTTP, "insecure-http", false, "allow an http public URL on a host that is not loopback; the session cookie then cannot be Secure")
	fs.StringVar(&f.logLevel, "log-level", "info", "log `level`: trace, debug, info, warn or error (debug when the Ping debug variable is true)")
	rateLimit := fs.String("rate-limit", "off", "per-client limit on /login/ping and /callback_ping: `N/s|N/min|N/h[,burst=B]` (burst defaults to N; a sign-in takes two requests), or off")
	trusted := fs.String("trusted-proxies", "", "comma-separated `CIDRs` of reverse proxies whose X-Forwarded-For names the client for --rate-limit")
	if err := parseCommandFlags(fs, serveUsage, env, args); err != nil {
		return nil, err
	}
	var err error
	switch {
	case fs.NArg() > 0:
		return nil, usageErr("serve: unexpected argument %q", fs.Arg(0))
	case f.db == "":
		return nil, usageErr("serve: --db is required")
	case f.directoryPoll < 0:
		return nil, usageErr("serve: --directory-poll %s is negative", f.directoryPoll)
	case f.session <= 0:
		return nil, usageErr("serve: --session-ttl %s must be positive", f.session)
	case f.sessionIdle < 0:
		return nil, usageErr("serve: --session-idle %s is negative", f.sessionIdle)
	case hclog.LevelFromString(f.logLevel) == hclog.NoLevel:
		return nil, usageErr("serve: --log-level %q: want trace, debug, info, warn or error", f.logLevel)
	}
	if f.rateLimit, err = parseRateLimit(*rateLimit); err != nil {
		return nil, usageErr("serve: --rate-limit %q: %v", *rateLimit, err)
	}
	if f.trustedProxies, err = parsePrefixes(*trusted); err != nil {
		return nil, usageErr("serve: --trusted-proxies %q: %v", *trusted, err)
	}
	if _, _, err := net.SplitHostPort(f.listen); err != nil {
		return nil, usageErr("serve: --listen %q: %v", f.listen, err)
	}
	if f.metricsListen != "" {
		if _, _, err := net.SplitHostPort(f.metricsListen); err != nil {
			return nil, usageErr("serve: --metrics-listen %q: %v", f.metricsListen, err)
		}
	}
	listenHost, _, _ := net.SplitHostPort(f.listen)
	publicHost, scheme := listenHost, "http"
	if f.publicURL != "" {
		u, err := host.ParsePublicURL(f.publicURL)
		if err != nil {
			return nil, usageErr("serve: --public-url %q: %v", f.publicURL, err)
		}
		f.publicURL = strings.TrimSuffix(f.publicURL, "/")
		publicHost, scheme = u.Hostname(), u.Scheme
	} else if listenHost == "" || net.ParseIP(listenHost).IsUnspecified() {
		return nil, usageErr("serve: --public-url is required when --listen %q does not name one host", f.listen)
	}
	if scheme == "http" && !config.IsLoopback(publicHost) && !f.insecureHTTP {
		return nil, usageErr("serve: plain http on %q, a host that is not loopback, would send the session cookie in clear; "+
			"give an https --public-url (e.g. behind a TLS proxy), or pass --insecure-http", publicHost)
	}
	return f, nil
}

// runServe runs `pingauthz serve` until ctx ends or SIGINT/SIGTERM arrives.
// The Ping settings are read from env.environ, which is also the plugin's
// whole environment.
func runServe(ctx context.Context, env *cliEnv, args []string) error {
	environ, stdout, stderr := env.environ, env.stdout, env.stderr
	f, err := parseServeFlags(args, env)
	if err != nil {
		return err
	}
	// The configuration is checked before anything listens or is created.
	cfg, warnings, err := config.Load(environ)
	for _, w := range warnings {
		fmt.Fprintf(stderr, "pingauthz: warning: %s: %s\n", w.Var, w.Message)
	}
	if err != nil {
		return configErr(err)
	}
	// The policy set is checked as the plugin checks it at start, so a
	// mistake is reported here with its file, line, rule or probe login.
	if _, err := rego.Check(ctx, cfg); err != nil {
		return &exitError{code: 2, err: err}
	}
	pluginPath, err := server.ResolvePlugin(f.pluginPath)
	if err != nil {
		return err
	}
	if f.rateLimit != nil {
		f.rateLimit.TrustedProxies = f.trustedProxies
	} else if len(f.trustedProxies) > 0 {
		fmt.Fprintln(stderr, "pingauthz: warning: --trusted-proxies has no effect without --rate-limit")
	}
	var checksum []byte
	if f.pluginSHA != "" {
		if checksum, err = server.ParseChecksum(f.pluginSHA); err != nil {
			return usageErr("serve: --plugin-sha256: %v", err)
		}
	} else if sum, err := server.FileChecksum(pluginPath); err == nil {
		fmt.Fprintf(stderr, "pingauthz: warning: no --plugin-sha256, so the plugin %s is started without a check "+
			"that it is the binary you installed; its SHA-256 is now %s\n", pluginPath, sum)
	} else {
		return err
	}
	level := hclog.LevelFromString(f.logLevel)
	if cfg.Debug && level > hclog.Debug {
		level = hclog.Debug
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "pingauthz", Output: stderr, Level: level})

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("serve: --listen %s: %w", f.listen, err)
	}
	defer ln.Close()
	var mln net.Listener
	var m *metrics.Metrics
	if f.metricsListen != "" {
		if mln, err = net.Listen("tcp", f.metricsListen); err != nil {
			return fmt.Errorf("serve: --metrics-listen %s: %w", f.metricsListen, err)
		}
		defer mln.Close()
		m = metrics.New(metrics.Options{Logger: logger})
	}
	publicURL := f.publicURL
	if publicURL == "" {
		publicURL = "http://" + ln.Addr().String()
	}
	poll := f.directoryPoll
	if poll == 0 {
		poll = -1 // server.Config: negative turns polling off
	}
	srv, err := server.Open(ctx, server.Config{
		DBPath:         f.db,
		PluginPath:     pluginPath,
		PluginChecksum: checksum,
		PluginEnv:      environ,
		SkipHostEnv:    true,
		PublicURL:      publicURL,
		Logger:         logger,
		DirectoryPoll:  poll,
		SessionTTL:     f.session,
		SessionIdle:    f.sessionIdle,
		InsecureHTTP:   f.insecureHTTP,
		RateLimit:      f.rateLimit,
		Metrics:        m,
	})
	var startErr *host.StartError
	if errors.As(err, &startErr) {
		return &exitError{code: 2, err: fmt.Errorf("the plugin %s did not start: %s", startErr.Path, startErr.Reason())}
	}
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "pingauthz: serving %s on %s (callback %s%s)\n", publicURL, ln.Addr(), publicURL, host.CallbackPath)
	if mln != nil {
		fmt.Fprintf(stdout, "pingauthz: metrics on http://%s%s\n", mln.Addr(), server.MetricsPath)
	}
	err = serveAll(ctx, srv, ln, mln)
	if cerr := srv.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		fmt.Fprintln(stdout, "pingauthz: stopped")
	}
	return err
}

// serveAll serves the login pages on ln and, when mln is not nil, the
// metrics on mln, until ctx ends or either fails; it stops both.
func serveAll(ctx context.Context, srv *server.Server, ln, mln net.Listener) error {
	if mln == nil {
		return srv.Serve(ctx, ln)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	merr := make(chan error, 1)
	go func() {
		err := srv.ServeMetrics(ctx, mln)
		cancel()
		merr <- err
	}()
	err := srv.Serve(ctx, ln)
	cancel()
	return errors.Join(err, <-merr)
}

// configErr renders a configuration error with one problem per line.
func configErr(err error) error {
	var verr *config.ValidationError
	if !errors.As(err, &verr) {
		return &exitError{code: 2, err: err}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid Ping configuration (%d problem(s)):", len(verr.Problems))
	for _, p := range verr.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Var, p.Message)
	}
	return &exitError{code: 2, err: errors.New(b.String())}
}
