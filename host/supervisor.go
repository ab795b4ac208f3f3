package host

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pingauthz/pingauthz/plugin"
)

// Defaults of Config.
const (
	DefaultCallTimeout  = 10 * time.Second
	DefaultStartTimeout = 30 * time.Second
	DefaultBackoffMin   = 100 * time.Millisecond
	DefaultBackoffMax   = 5 * time.Second
)

var (
	// ErrUnavailable is matched (errors.Is) by every error saying the plugin
	// is down: it died, it is restarting, or a restart is backing off.
	ErrUnavailable = errors.New("host: plugin unavailable")
	// ErrClosed is returned by calls on a closed Plugin.
	ErrClosed = errors.New("host: plugin closed")
	// ErrChecksumMismatch is matched when the plugin binary does not have
	// the configured SHA-256.
	ErrChecksumMismatch = errors.New("host: plugin checksum mismatch")
)

// UnavailableError says why the plugin cannot serve a call now. It matches
// ErrUnavailable and wraps the failure that took the plugin down.
type UnavailableError struct {
	// RetryAfter is how long a restart is held back; zero when the next
	// call may try at once.
	RetryAfter time.Duration
	Err        error
}

func (e *UnavailableError) Error() string {
	msg := "host: plugin unavailable"
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (next restart in %s)", e.RetryAfter.Round(time.Millisecond))
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrUnavailable and the cause.
func (e *UnavailableError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// Config configures Start.
type Config struct {
	// PluginPath is the plugin binary. Start resolves it once to an
	// absolute path with symlinks resolved, and every launch checks and
	// runs that file; a bare name is a file in the working directory,
	// never one found on PATH.
	PluginPath string
	// Checksum, when set, is the SHA-256 the binary must have; it is checked
	// before every launch.
	Checksum []byte
	// Env is added to the plugin's environment (e.g. the CLEARML__ vars);
	// it wins over a variable of the same name inherited from this process.
	Env []string
	// SkipHostEnv gives the plugin only Env, not this process's environment.
	SkipHostEnv bool
	// Logger receives supervision events and the plugin's own log lines;
	// nil means hclog.Default().
	Logger hclog.Logger
	// CallTimeout bounds every call to the plugin; zero means DefaultCallTimeout.
	CallTimeout time.Duration
	// StartTimeout bounds a launch until the plugin answers the handshake;
	// zero means DefaultStartTimeout.
	StartTimeout time.Duration
	// Directory, when set, is read and pushed at every launch and by
	// PushDirectory. When nil, the last directory given to SetDirectory is
	// pushed again after a restart.
	Directory func(ctx context.Context) (*sso.Directory, error)
	// BackoffMin and BackoffMax bound the wait between restart attempts of
	// a plugin that keeps failing; zero means DefaultBackoffMin/Max.
	BackoffMin, BackoffMax time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnCall, when set, is called when a call to the plugin ends, with
	// the Authenticator method's name (PushDirectory is "SetDirectory")
	// and the call's error, nil on success. A call retried on a restarted
	// plugin is reported once, with its final error. It runs on the
	// caller's goroutine and must return quickly.
	OnCall func(method string, err error)
}

// instance is one launched plugin process.
type instance struct {
	client  *goplugin.Client
	auth    plugin.Authenticator
	started time.Time
	dead    atomic.Bool
}

// Plugin is a supervised plugin process. It implements plugin.Authenticator
// by forwarding each call with a timeout. When the process has died, the
// next call launches it again and pushes the directory before serving; a
// plugin that keeps dying is restarted with exponential backoff, during
// which calls fail at once with an UnavailableError. It does not restart a
// plugin that hangs without dying: such calls end at CallTimeout. Safe for
// concurrent use.
type Plugin struct {
	cfg Config
	log hclog.Logger

	pushMu sync.Mutex // orders directory pushes

	mu          sync.Mutex
	inst        *instance
	starting    chan struct{} // closed when the running restart ends
	lastAttempt time.Time
	nextAttempt time.Time
	failures    int
	lastErr     error
	lastDir     *sso.Directory
	restarts    int
	closed      bool
	bg          sync.WaitGroup // restarts and kills running in the background
}

var _ plugin.Authenticator = (*Plugin)(nil)

// Start launches the plugin, pushes the directory and returns the
// supervised plugin. A failed first launch is returned as an error, not
// retried; a checksum mismatch matches ErrChecksumMismatch.
func Start(ctx context.Context, cfg Config) (*Plugin, error) {
	if cfg.PluginPath == "" {
		return nil, errors.New("host: Config.PluginPath is empty")
	}
	path, err := resolvePath(cfg.PluginPath)
	if err != nil {
		return nil, err
	}
	cfg.PluginPath = path
	if n := len(cfg.Checksum); n != 0 && n != sha256.Size {
		return nil, fmt.Errorf("host: Config.Checksum is %d bytes; a SHA-256 has %d", n, sha256.Size)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"CallTimeout", cfg.CallTimeout}, {"StartTimeout", cfg.StartTimeout}, {"BackoffMin", cfg.BackoffMin}, {"BackoffMax", cfg.BackoffMax}} {
		if d.v < 0 {
			return nil, fmt.Errorf("host: Config.%s %s is negative", d.name, d.v)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.Default()
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.BackoffMin == 0 {
		cfg.BackoffMin = DefaultBackoffMin
	}
	if cfg.BackoffMax == 0 {
		cfg.BackoffMax = DefaultBackoffMax
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		return nil, fmt.Errorf("host: Config.BackoffMax %s is below BackoffMin %s", cfg.BackoffMax, cfg.BackoffMin)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Plugin{cfg: cfg, log: cfg.Logger}
	p.lastAttempt = cfg.Now()
	inst, err := p.launch(ctx, nil)
	if err != nil {
		return nil, err
	}
	p.inst = inst
	return p, nil
}

// resolvePath makes path absolute and resolves its symlinks.
func resolvePath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("host: plugin %s: %w", path, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("host: plugin %s: %w", abs, err)
	}
	return real, nil
}

// launch starts a plugin process, connects to it and pushes the directory
// (from Config.Directory, else lastDir). It leaves nothing running when it
// fails.
func (p *Plugin) launch(ctx context.Context, lastDir *sso.Directory) (*instance, error) {
	dir := lastDir
	if p.cfg.Directory != nil {
		// Read first: no process is started for a directory that cannot be read.
		dctx, cancel := context.WithTimeout(ctx, p.cfg.CallTimeout)
		d, err := p.cfg.Directory(dctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("host: reading the directory to push: %w", err)
		}
		dir = d
	}
	cmd := exec.Command(p.cfg.PluginPath)
	env := append([]string(nil), p.cfg.Env...)
	if !p.cfg.SkipHostEnv {
		// Later entries win, so Env overrides the inherited variables.
		env = append(os.Environ(), env...)
	}
	cmd.Env = env
	stopWithHost(cmd)
	cc := plugin.ClientConfig(cmd, p.cfg.Checksum, p.log)
	// The environment is composed above; go-plugin would append the host's
	// after it and so override Env.
	cc.SkipHostEnv = true
	cc.StartTimeout = p.cfg.StartTimeout
	stderr := &stderrLines{}
	cc.Stderr = stderr
	client := goplugin.NewClient(cc)
	auth, err := plugin.Dispense(client)
	if err != nil {
		// Kill waits until go-plugin has read all of stderr.
		client.Kill()
		if errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
			return nil, fmt.Errorf("%w: %s", ErrChecksumMismatch, p.cfg.PluginPath)
		}
		line, more := stderr.stop()
		p.log.Debug("plugin handshake failed", "path", p.cfg.PluginPath, "error", err)
		return nil, &StartError{Path: p.cfg.PluginPath, Line: line, MoreLines: more, Exit: exitText(cmd.ProcessState), Err: err}
	}
	stderr.stop()
	if dir != nil {
		cctx, cancel := context.WithTimeout(ctx, p.cfg.CallTimeout)
		err = auth.SetDirectory(cctx, dir)
		cancel()
		if err != nil {
			client.Kill()
			return nil, fmt.Errorf("host: pushing the directory to plugin %s: %w", p.cfg.PluginPath, err)
		}
	}
	return &instance{client: client, auth: auth, started: p.cfg.Now()}, nil
}

// backoff is the wait before the next restart attempt after n consecutive
// failures: none after one (a single crash is restarted at once), then
// BackoffMin doubling up to BackoffMax.
func (p *Plugin) backoff(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	d := p.cfg.BackoffMin
	for i := 2; i < n && d < p.cfg.BackoffMax; i++ {
		d *= 2
	}
	return min(d, p.cfg.BackoffMax)
}

// acquire returns a live instance, restarting the plugin when it died. A
// call makes at most one restart attempt (its own or one it waited for).
func (p *Plugin) acquire(ctx context.Context) (*instance, error) {
	waited := false
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		if inst := p.inst; inst != nil {
			if !inst.dead.Load() && !inst.client.Exited() {
				p.mu.Unlock()
				return inst, nil
			}
			p.retireLocked(inst)
		}
		if p.starting == nil {
			wait := max(p.nextAttempt.Sub(p.cfg.Now()), 0)
			if waited || wait > 0 {
				err := &UnavailableError{RetryAfter: wait, Err: p.lastErr}
				p.mu.Unlock()
				return nil, err
			}
			p.lastAttempt = p.cfg.Now()
			p.starting = make(chan struct{})
			p.bg.Add(1)
			go p.restart(p.starting, p.lastDir)
		}
		ch := p.starting
		p.mu.Unlock()
		select {
		case <-ch:
			waited = true
		case <-ctx.Done():
			return nil, &UnavailableError{Err: fmt.Errorf("waiting for the plugin to restart: %w", ctx.Err())}
		}
	}
}

// retireLocked drops a dead instance and schedules the next attempt: a
// plugin that died sooner than BackoffMax after its launch counts as one
// more consecutive failure; one that ran longer starts a new count.
// p.mu must be held.
func (p *Plugin) retireLocked(inst *instance) {
	p.inst = nil
	if p.cfg.Now().Sub(inst.started) >= p.cfg.BackoffMax {
		p.failures = 0
	}
	p.failures++
	p.nextAttempt = p.lastAttempt.Add(p.backoff(p.failures))
	p.lastErr = errors.New("the plugin process exited")
	p.log.Warn("plugin process is gone; restarting on the next call", "consecutive_failures", p.failures)
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		inst.client.Kill() // reaps the process and releases the connection
	}()
}

// restart launches a new instance in the background; callers wait on done.
func (p *Plugin) restart(done chan struct{}, lastDir *sso.Directory) {
	defer p.bg.Done()
	inst, err := p.launch(context.Background(), lastDir)
	p.mu.Lock()
	defer func() {
		p.starting = nil
		close(done)
		p.mu.Unlock()
	}()
	switch {
	case err != nil:
		p.failures++
		p.lastErr = err
		p.nextAttempt = p.lastAttempt.Add(p.backoff(p.failures))
		p.log.Error("plugin restart failed", "error", err, "consecutive_failures", p.failures,
			"next_attempt_in", p.nextAttempt.Sub(p.cfg.Now()).Round(time.Millisecond))
	case p.closed:
		p.bg.Add(1)
		go func() {
			defer p.bg.Done()
			inst.client.Kill()
		}()
	default:
		p.inst = inst
		p.restarts++
		p.log.Info("plugin restarted", "restarts", p.restarts)
	}
}

// transportFailure reports whether err says the connection to the plugin
// is broken (as opposed to an answer of the plugin, which may be a
// LoginError of kind provider_unavailable travelling as Unavailable).
func transportFailure(err error) bool {
	var le *plugin.LoginError
	return !errors.As(err, &le) && status.Code(err) == codes.Unavailable
}

// lost reports whether a call on inst that failed with err failed because
// the instance is gone: the connection broke, the process exited, another
// call found it dead, or its connection was closed under the call (a
// cancellation the caller did not ask for, as when a dead instance is
// retired while calls on it still wait).
func lost(ctx context.Context, inst *instance, err error) bool {
	if transportFailure(err) || inst.dead.Load() || inst.client.Exited() {
		return true
	}
	canceled := errors.Is(err, context.Canceled) || status.Code(err) == codes.Canceled
	return canceled && ctx.Err() == nil
}

// do runs f, a call of method, against a live instance with the call
// timeout, and reports it to OnCall. When the connection breaks, the
// instance is marked dead and, if retry is set, f runs once more on a
// restarted plugin.
func (p *Plugin) do(ctx context.Context, method string, retry bool, f func(context.Context, plugin.Authenticator) error) error {
	err := p.try(ctx, retry, f)
	if p.cfg.OnCall != nil {
		p.cfg.OnCall(method, err)
	}
	return err
}

// try is do without the report to OnCall.
func (p *Plugin) try(ctx context.Context, retry bool, f func(context.Context, plugin.Authenticator) error) error {
	for attempt := 0; ; attempt++ {
		inst, err := p.acquire(ctx)
		if err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, p.cfg.CallTimeout)
		err = f(cctx, inst.auth)
		cancel()
		if err == nil {
			return nil
		}
		if !lost(ctx, inst, err) {
			return err
		}
		inst.dead.Store(true)
		if !retry || attempt > 0 || ctx.Err() != nil {
			return &UnavailableError{Err: err}
		}
		p.log.Warn("plugin connection lost; retrying on a restarted plugin", "error", err)
	}
}

// PID returns the process id of the running plugin, or 0 while none runs
// (it died and was not restarted yet, or the Plugin is closed). The process
// may exit at any time after PID returns.
func (p *Plugin) PID() int {
	p.mu.Lock()
	inst := p.inst
	p.mu.Unlock()
	if inst == nil || inst.client.Exited() {
		return 0
	}
	if rc := inst.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// Restarts returns how many times the plugin was launched again after it
// died.
func (p *Plugin) Restarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restarts
}

// Close stops the plugin process and waits for it (and any restart under
// way) to end. Later calls fail with ErrClosed. Close is idempotent.
func (p *Plugin) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.bg.Wait()
		return
	}
	p.closed = true
	inst := p.inst
	p.inst = nil
	p.mu.Unlock()
	if inst != nil {
		inst.client.Kill()
	}
	p.bg.Wait()
}
