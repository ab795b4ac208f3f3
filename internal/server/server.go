// Package server assembles the reference server: the directory (SQLite or
// PostgreSQL), the supervised plugin and the login handlers, with the
// directory pushed to the plugin at start and after every change, made by
// this process or another. `pingauthz serve` and `pingauthz demo` both run
// it; several servers may share one PostgreSQL directory. It does not read the CLEARML__ environment itself: the
// caller validates it and passes what the plugin needs.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/metrics"
	"github.com/pingauthz/pingauthz/internal/store"
)

// Defaults of Config.
const (
	// DefaultDirectoryPoll is how often SQLite is asked whether another
	// process (e.g. `pingauthz admin`) has committed (see watch.go).
	DefaultDirectoryPoll = store.DefaultWatchInterval
	// DefaultShutdownTimeout bounds the graceful end of open requests.
	DefaultShutdownTimeout = 10 * time.Second
	// pushTimeout bounds one directory push.
	pushTimeout = 30 * time.Second
)

// Config configures Open.
type Config struct {
	// DBPath is the directory: a SQLite file (created when absent) or a
	// postgres:// URL (see store.Open).
	DBPath string
	// PluginPath is the plugin binary; PluginChecksum, when set, is its SHA-256.
	PluginPath     string
	PluginChecksum []byte
	// PluginEnv is added to the plugin's environment; with
	// SkipHostEnv the plugin gets only PluginEnv.
	PluginEnv   []string
	SkipHostEnv bool
	// PublicURL is the server's external origin (no path); the callback is
	// PublicURL + host.CallbackPath.
	PublicURL string
	// Logger gets the server's and the plugin's log; nil discards it.
	Logger hclog.Logger
	// DirectoryPoll is how often SQLite is asked whether other processes
	// have committed, and the directory read when they changed it;
	// PostgreSQL notifies at once and polls every 20 x DirectoryPoll only
	// while it cannot. Zero means DefaultDirectoryPoll; a negative value
	// turns the watch off (changes made through Store are pushed at once
	// either way).
	DirectoryPoll time.Duration
	// SessionTTL is the session lifetime; zero means host.DefaultSessionTTL.
	SessionTTL time.Duration
	// SessionIdle, when positive, ends sessions unused for that long
	// (store.WithSessionIdle); zero means sessions end only at SessionTTL.
	SessionIdle time.Duration
	// InsecureHTTP allows an http PublicURL on a host that is not loopback
	// (host.HandlerConfig.InsecureHTTP).
	InsecureHTTP bool
	// RateLimit, when set, limits the sign-in requests of each client
	// (host.HandlerConfig.RateLimit); nil means no limit.
	RateLimit *host.RateLimit
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Metrics, when set, gets the server's metrics: the handlers' login
	// phases and outcomes, the plugin's calls and state, and the size of
	// each directory pushed. ServeMetrics serves them.
	Metrics *metrics.Metrics
}

var _ host.Directory = (*store.Store)(nil)

// Server is an opened reference server. Its Handler serves the login pages;
// Serve runs it on a listener.
type Server struct {
	// Store is the directory; changes made through it reach the plugin.
	Store *store.Store
	// Plugin is the supervised plugin process.
	Plugin *host.Plugin
	// Handler serves /, /login/ping, /callback_ping, /api/me and /logout.
	Handler http.Handler

	cfg  Config
	log  hclog.Logger
	plug atomic.Pointer[host.Plugin]

	// pushed is the directory version the plugin got last.
	pushed atomic.Int64
	// watchPushed, when set (by tests), is called after the watch pushed a
	// change made by another process.
	watchPushed atomic.Pointer[func(version int64)]

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Open opens the store, starts the plugin with the current directory and
// builds the handler. On error nothing stays open or running.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DBPath == "" {
		return nil, errors.New("server: Config.DBPath is empty")
	}
	if cfg.PluginPath == "" {
		return nil, errors.New("server: Config.PluginPath is empty")
	}
	if cfg.DirectoryPoll == 0 {
		cfg.DirectoryPoll = DefaultDirectoryPoll
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, log: cfg.Logger, stop: make(chan struct{})}
	if s.log == nil {
		s.log = hclog.NewNullLogger()
	}
	if cfg.SessionIdle < 0 {
		return nil, fmt.Errorf("server: Config.SessionIdle %s is negative", cfg.SessionIdle)
	}
	st, err := store.Open(ctx, cfg.DBPath, store.WithNow(cfg.Now), store.OnChange(s.directoryChanged),
		store.WithSessionIdle(cfg.SessionIdle))
	if err != nil {
		return nil, fmt.Errorf("server: opening the database: %w", err)
	}
	s.Store = st
	hc := host.Config{
		PluginPath:  cfg.PluginPath,
		Checksum:    cfg.PluginChecksum,
		Env:         cfg.PluginEnv,
		SkipHostEnv: cfg.SkipHostEnv,
		Logger:      s.log.Named("plugin"),
		Directory:   s.snapshot,
		Now:         cfg.Now,
	}
	var observer host.Observer
	if cfg.Metrics != nil {
		hc.OnCall, observer = cfg.Metrics.PluginCall, cfg.Metrics
	}
	p, err := host.Start(ctx, hc)
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("server: starting the plugin: %w", err)
	}
	s.Plugin = p
	s.plug.Store(p)
	h, err := host.NewHandler(host.HandlerConfig{
		Auth:         p,
		Directory:    st,
		PublicURL:    cfg.PublicURL,
		InsecureHTTP: cfg.InsecureHTTP,
		Logger:       s.log.Named("http"),
		SessionTTL:   cfg.SessionTTL,
		RateLimit:    cfg.RateLimit,
		Now:          cfg.Now,
		OnDirectoryChange: func(ctx context.Context) {
			s.push(ctx, "after a failed apply")
		},
		Observer: observer,
	})
	if err == nil && cfg.Metrics != nil {
		err = cfg.Metrics.WatchPlugin(p)
	}
	if err != nil {
		p.Close()
		_ = st.Close()
		return nil, fmt.Errorf("server: %w", err)
	}
	s.Handler = h
	s.startBackground()
	return s, nil
}

// snapshot reads the directory for the plugin and remembers its version.
func (s *Server) snapshot(ctx context.Context) (*sso.Directory, error) {
	d, v, err := s.Store.VersionedSnapshot(ctx)
	if err == nil {
		s.pushed.Store(v)
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.Directory(d)
		}
	}
	return d, err
}

// directoryChanged is the store's change hook: it pushes the new directory.
func (s *Server) directoryChanged() {
	s.push(context.Background(), "after a change")
}

// push sends the current directory to the plugin; failures are logged (a
// plugin that restarts pushes the directory again itself).
func (s *Server) push(ctx context.Context, why string) {
	p := s.plug.Load()
	if p == nil {
		return // the plugin's first launch pushes the directory
	}
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	if err := p.PushDirectory(ctx); err != nil {
		s.log.Error("pushing the directory to the plugin failed", "when", why, "error", err)
		return
	}
	s.log.Debug("directory pushed", "when", why)
}

// Serve serves the handler on ln until ctx ends, then shuts down
// gracefully, waiting at most DefaultShutdownTimeout for open requests. It
// does not close the Server.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, ln, s.Handler, "http")
}

// serve serves h on ln as Serve does; name names its error log.
func (s *Server) serve(ctx context.Context, ln net.Listener, h http.Handler, name string) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          s.log.Named(name).StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), DefaultShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		<-errc
		return fmt.Errorf("server: shutting down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// Close stops the directory watch, the plugin process and closes the store. It is
// idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.wg.Wait()
		s.plug.Store(nil)
		s.Plugin.Close()
		s.closeErr = s.Store.Close()
	})
	return s.closeErr
}
