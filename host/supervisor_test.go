package host

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/plugin/ping"
)

// pluginBuild builds cmd/pingauthz-plugin once for the package's tests.
var pluginBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	if os.Getenv(childHostEnv) != "" {
		os.Exit(runChildHost())
	}
	code := m.Run()
	if pluginBuild.dir != "" {
		_ = os.RemoveAll(pluginBuild.dir)
	}
	os.Exit(code)
}

// childHostEnv makes the test binary a host that starts the plugin named
// by its value, prints "pid N" and waits to be killed.
const childHostEnv = "PINGAUTHZ_HOST_TEST_CHILD_PLUGIN"

// runChildHost is the test binary run as such a host.
func runChildHost() int {
	p, err := Start(context.Background(), Config{PluginPath: os.Getenv(childHostEnv), Logger: hclog.NewNullLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("pid %d\n", p.PID())
	select {}
}

// pluginBinary returns the path of the built plugin, skipping in -short mode.
func pluginBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the plugin binary")
	}
	pluginBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "pingauthz-host-test")
		if err != nil {
			pluginBuild.err = err
			return
		}
		pluginBuild.dir = dir
		pluginBuild.path = filepath.Join(dir, "pingauthz-plugin")
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		out, err := exec.Command(gobin, "build", "-o", pluginBuild.path, "../cmd/pingauthz-plugin").CombinedOutput()
		if err != nil {
			pluginBuild.err = fmt.Errorf("building the plugin: %v\n%s", err, out)
		}
	})
	if pluginBuild.err != nil {
		t.Fatal(pluginBuild.err)
	}
	return pluginBuild.path
}

func sha256File(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// testLogger returns a host logger and its buffer; the log is shown when
// the test fails.
func testLogger(t *testing.T) (hclog.Logger, *testutil.SyncBuffer) {
	return testutil.Logger(t, "host")
}

// emulatorEnv starts a Ping emulator and returns the plugin environment
// pointing at it.
func emulatorEnv(t *testing.T) []string {
	t.Helper()
	srv, err := pingemu.Start(pingemu.Options{
		Clients: []pingemu.Client{{ID: "host-test", Secret: "host-test-secret-0123456789",
			RedirectURIs: []string{"http://127.0.0.1:8080/callback_ping"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return []string{
		ping.EnvName("authorize_url") + "=" + srv.AuthorizeURL(),
		ping.EnvName("access_token_url") + "=" + srv.TokenURL(),
		ping.SecureEnvName("client_id") + "=host-test",
		ping.SecureEnvName("client_secret") + "=host-test-secret-0123456789",
	}
}

// dirSource is a directory that tests change; it counts reads and can fail.
type dirSource struct {
	mu    sync.Mutex
	dir   *sso.Directory
	err   error
	reads int
}

func (s *dirSource) read(context.Context) (*sso.Directory, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.err != nil {
		return nil, s.err
	}
	return s.dir, nil
}

func (s *dirSource) set(dir *sso.Directory, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dir, s.err = dir, err
}

func (s *dirSource) readCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// whitelisting returns a directory that signs up users of domain into c1.
func whitelisting(domain string) *sso.Directory {
	d := &sso.Directory{
		Companies: map[string]sso.Company{"c1": {Name: "Acme", Groups: []string{"ML Team"}}},
		Whitelist: sso.Whitelist{Emails: map[string]sso.WhitelistEntry{}, Domains: map[string]sso.WhitelistEntry{}},
	}
	if domain != "" {
		d.Whitelist.Domains[domain] = sso.WhitelistEntry{Company: "c1"}
	}
	return d
}

// newcomer is the policy input of a first login by bob@acme.com.
var newcomer = &sso.Input{Identity: sso.Identity{
	Issuer: "https://idp.example/as", Subject: "b-1", UserID: "b-1", Email: "bob@acme.com", Name: "Bob",
}}

// startPlugin starts the real plugin against an emulator.
func startPlugin(t *testing.T, src *dirSource, clock *testutil.Clock) (*Plugin, *testutil.SyncBuffer) {
	t.Helper()
	bin := pluginBinary(t)
	logger, logs := testLogger(t)
	cfg := Config{
		PluginPath: bin, Checksum: sha256File(t, bin), Env: emulatorEnv(t), SkipHostEnv: true,
		Logger: logger, CallTimeout: 20 * time.Second, Directory: src.read,
	}
	if clock != nil {
		cfg.Now = clock.Now
	}
	p, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, logs
}

// signal sends sig to the running plugin process and returns its pid. It
// never signals pid 0, which would be this test's process group.
func (p *Plugin) signal(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	pid := p.PID()
	if pid <= 0 {
		t.Fatal("no plugin process")
	}
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatal(err)
	}
	return pid
}

// kill ends the plugin process behind the supervisor's back and waits
// until go-plugin has seen it exit.
func (p *Plugin) kill(t *testing.T) int {
	t.Helper()
	p.mu.Lock()
	inst := p.inst
	p.mu.Unlock()
	pid := p.signal(t, syscall.SIGKILL)
	deadline := time.Now().Add(30 * time.Second)
	for !inst.client.Exited() {
		if time.Now().After(deadline) {
			t.Fatal("the killed plugin was not seen to exit")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return pid
}

// startOrClose is Start for tests that expect it to fail: a plugin that
// starts anyway is stopped when the test ends.
func startOrClose(t *testing.T, cfg Config) (*Plugin, error) {
	p, err := Start(context.Background(), cfg)
	if err == nil {
		t.Cleanup(p.Close)
	}
	return p, err
}

func decide(t *testing.T, p *Plugin) *sso.Decision {
	t.Helper()
	d, err := p.Decide(context.Background(), newcomer)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPluginRestartsAndPushesDirectoryAgain(t *testing.T) {
	src := &dirSource{dir: whitelisting("acme.com")}
	p, logs := startPlugin(t, src, nil)
	if d := decide(t, p); !d.Allow || d.Company != "c1" || !slices.Contains(d.Reasons, "signup:whitelist_domain") {
		t.Fatalf("decision %+v, want a whitelist sign-up", d)
	}
	if !strings.Contains(logs.String(), "provider ready") {
		t.Errorf("the plugin's log lines did not reach the host logger:\n%s", logs.String())
	}
	// The plugin keeps the directory it was given until it is pushed again.
	src.set(whitelisting(""), nil)
	if d := decide(t, p); !d.Allow {
		t.Fatalf("decision %+v changed without a push", d)
	}
	old := p.kill(t)
	d := decide(t, p)
	if d.Allow || !slices.Contains(d.Reasons, "deny:not_whitelisted") {
		t.Fatalf("decision after restart %+v: the directory was not pushed again", d)
	}
	if p.Restarts() != 1 || p.PID() == old || p.PID() == 0 {
		t.Fatalf("restarts %d, pid %d (old %d)", p.Restarts(), p.PID(), old)
	}
}

func TestPluginRestartAfterConnectionLoss(t *testing.T) {
	// The call that meets the broken connection retries on a new plugin.
	src := &dirSource{dir: whitelisting("acme.com")}
	p, _ := startPlugin(t, src, nil)
	p.signal(t, syscall.SIGKILL)
	if d := decide(t, p); !d.Allow {
		t.Fatalf("decision %+v", d)
	}
	if p.Restarts() != 1 {
		t.Fatalf("restarts %d, want 1", p.Restarts())
	}
}

func TestPushDirectory(t *testing.T) {
	src := &dirSource{dir: whitelisting("")}
	p, _ := startPlugin(t, src, nil)
	if d := decide(t, p); d.Allow {
		t.Fatalf("decision %+v, want a deny", d)
	}
	src.set(whitelisting("acme.com"), nil)
	if err := p.PushDirectory(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := decide(t, p); !d.Allow {
		t.Fatalf("decision %+v after the push, want an allow", d)
	}
	src.set(nil, errors.New("database is locked"))
	if err := p.PushDirectory(context.Background()); err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("PushDirectory error %v", err)
	}
	if errors.Is(p.PushDirectory(context.Background()), ErrUnavailable) {
		t.Fatal("a failed read was taken for a dead plugin")
	}
}

func TestPluginBackoff(t *testing.T) {
	clock := testutil.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	src := &dirSource{dir: whitelisting("acme.com")}
	p, _ := startPlugin(t, src, clock)

	// A plugin that ran for a while is restarted at once.
	clock.Advance(time.Minute)
	p.kill(t)
	decide(t, p)

	// The first failed restart is reported; the next ones are held back,
	// doubling the wait.
	src.set(nil, errors.New("database is locked"))
	clock.Advance(time.Minute)
	p.kill(t)
	_, err := p.Decide(context.Background(), newcomer)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("error %v, want ErrUnavailable with the cause", err)
	}
	for _, wait := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond} {
		reads := src.readCount()
		_, err := p.Decide(context.Background(), newcomer)
		var ue *UnavailableError
		if !errors.As(err, &ue) || ue.RetryAfter != wait {
			t.Fatalf("error %v, want an UnavailableError retrying after %s", err, wait)
		}
		if src.readCount() != reads {
			t.Fatal("a restart was tried while backing off")
		}
		clock.Advance(wait)
		if _, err := p.Decide(context.Background(), newcomer); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("error %v, want ErrUnavailable", err)
		}
	}

	// Once the directory reads again, the next attempt succeeds.
	src.set(whitelisting(""), nil)
	clock.Advance(800 * time.Millisecond)
	if d := decide(t, p); d.Allow {
		t.Fatalf("decision %+v, want the newly pushed directory's deny", d)
	}
	if p.Restarts() != 2 {
		t.Fatalf("restarts %d, want 2", p.Restarts())
	}

	// A plugin that dies right after its launch counts as one more failure.
	p.kill(t)
	var ue *UnavailableError
	if _, err := p.Decide(context.Background(), newcomer); !errors.As(err, &ue) || ue.RetryAfter != 1600*time.Millisecond {
		t.Fatalf("error %v, want a retry after 1.6s", err)
	}
}

func TestChecksumMismatchRefusesToStart(t *testing.T) {
	bin := pluginBinary(t)
	logger, _ := testLogger(t)
	bad := sha256File(t, bin)
	bad[0] ^= 0xff
	_, err := startOrClose(t, Config{PluginPath: bin, Checksum: bad, Env: emulatorEnv(t), SkipHostEnv: true, Logger: logger})
	if !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("error %v, want ErrChecksumMismatch", err)
	}
}

func TestStartFailures(t *testing.T) {
	logger, _ := testLogger(t)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no path", Config{}, "PluginPath"},
		{"short checksum", Config{PluginPath: "/bin/true", Checksum: []byte{1, 2}}, "Checksum"},
		{"negative timeout", Config{PluginPath: "/bin/true", CallTimeout: -1}, "CallTimeout"},
		{"backoff order", Config{PluginPath: "/bin/true", BackoffMin: time.Second, BackoffMax: time.Millisecond}, "BackoffMax"},
		{"missing binary", Config{PluginPath: filepath.Join(t.TempDir(), "nope")}, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Logger = logger
			_, err := startOrClose(t, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestStartWithBadPluginConfiguration(t *testing.T) {
	bin := pluginBinary(t)
	logger, logs := testLogger(t)
	env := append(emulatorEnv(t), ping.EnvName("groups__enabled")+"=maybe")
	_, err := startOrClose(t, Config{PluginPath: bin, Env: env, SkipHostEnv: true, Logger: logger})
	if err == nil {
		t.Fatal("a plugin with an invalid configuration started")
	}
	if !strings.Contains(logs.String(), ping.EnvName("groups__enabled")) {
		t.Fatalf("the plugin's complaint did not reach the host log:\n%s", logs.String())
	}
	// The error itself names the variable and counts the other lines.
	var se *StartError
	if !errors.As(err, &se) || !strings.Contains(se.Line, ping.EnvName("groups__enabled")) || se.MoreLines == 0 ||
		!strings.Contains(err.Error(), "more error line(s) in the log") {
		t.Fatalf("error %v, want a StartError naming the variable and counting the other lines", err)
	}
}

func TestEnvOverridesInheritedEnvironment(t *testing.T) {
	bin := pluginBinary(t)
	logger, _ := testLogger(t)
	// Inherited, this value would stop the plugin; Env must win.
	t.Setenv(ping.EnvName("groups__enabled"), "maybe")
	env := append(emulatorEnv(t), ping.EnvName("groups__enabled")+"=true")
	p, err := Start(context.Background(), Config{PluginPath: bin, Env: env, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	info, err := p.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Config["groups.enabled"] != "true" {
		t.Fatalf("Info.Config = %v", info.Config)
	}
}

func TestCloseStopsThePlugin(t *testing.T) {
	src := &dirSource{dir: whitelisting("")}
	p, _ := startPlugin(t, src, nil)
	pid := p.PID()
	if pid <= 0 {
		t.Fatalf("PID() = %d while the plugin runs", pid)
	}
	p.Close()
	if got := p.PID(); got != 0 {
		t.Errorf("PID() = %d after Close, want 0", got)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("plugin process %d still exists after Close (kill: %v)", pid, err)
	}
	if _, err := p.Decide(context.Background(), newcomer); !errors.Is(err, ErrClosed) {
		t.Fatalf("error %v, want ErrClosed", err)
	}
	p.Close() // idempotent
}

func TestPluginConcurrentCallsAcrossRestart(t *testing.T) {
	src := &dirSource{dir: whitelisting("acme.com")}
	p, _ := startPlugin(t, src, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 8 {
				d, err := p.Decide(context.Background(), newcomer)
				switch {
				case errors.Is(err, ErrUnavailable):
				case err != nil:
					errs <- fmt.Errorf("caller %d: %w", i, err)
					return
				case !d.Allow:
					errs <- fmt.Errorf("caller %d: decision %+v", i, d)
					return
				}
			}
		}()
	}
	p.signal(t, syscall.SIGKILL)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if d := decide(t, p); !d.Allow {
		t.Fatalf("decision %+v after the restart", d)
	}
}
