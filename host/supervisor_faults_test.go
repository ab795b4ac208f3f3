package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pingauthz/pingauthz/internal/testutil"
)

// Faults of the supervised plugin: frozen, unstartable, replaced, or with
// its connection closed under a call.

// TestCallTimeout freezes the plugin process (SIGSTOP): a call ends at
// CallTimeout instead of hanging, the frozen plugin is not taken for dead,
// and calls work again once it runs.
func TestCallTimeout(t *testing.T) {
	bin := pluginBinary(t)
	logger, _ := testLogger(t)
	const timeout = 2 * time.Second
	// No Directory: nothing is pushed under the short timeout at launch.
	p, err := Start(context.Background(), Config{PluginPath: bin, Env: emulatorEnv(t), SkipHostEnv: true,
		Logger: logger, CallTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	pid := p.freeze(t)
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	})

	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		_, err := p.Info(context.Background())
		errc <- err
	}()
	select {
	case err = <-errc:
	case <-time.After(timeout + time.Minute):
		t.Fatalf("a call to a frozen plugin still runs %s after it started; CallTimeout is %s", time.Since(start), timeout)
	}
	if elapsed := time.Since(start); elapsed < timeout {
		t.Errorf("the call ended after %s, before CallTimeout %s", elapsed, timeout)
	}
	if status.Code(err) != codes.DeadlineExceeded && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want a deadline error", err)
	}
	if errors.Is(err, ErrUnavailable) {
		t.Errorf("a frozen plugin was reported as down: %v", err)
	}

	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed = true
	// The short CallTimeout also bounds these calls; a loaded machine may
	// need a few tries while the resumed process catches up.
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := p.Info(context.Background())
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("call after the plugin resumed: %v", err)
		}
	}
	if p.Restarts() != 0 || p.PID() != pid {
		t.Errorf("restarts %d, pid %d (was %d): a slow plugin must not be restarted", p.Restarts(), p.PID(), pid)
	}
}

// TestSetDirectoryWhilePluginDown pushes a directory while the plugin is
// dead and cannot be restarted: the push fails, and the restart once the
// binary is back pushes that directory, not the one before it.
func TestSetDirectoryWhilePluginDown(t *testing.T) {
	bin, _ := copyPlugin(t)
	logger, _ := testLogger(t)
	clock := testutil.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	ctx := context.Background()
	p, err := Start(ctx, Config{PluginPath: bin, Env: emulatorEnv(t), SkipHostEnv: true, Logger: logger,
		CallTimeout: 20 * time.Second, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if err := p.SetDirectory(ctx, whitelisting("acme.com")); err != nil {
		t.Fatal(err)
	}
	if d := decide(t, p); !d.Allow {
		t.Fatalf("decision %+v, want a whitelist sign-up", d)
	}

	away := bin + ".away"
	if err := os.Rename(bin, away); err != nil {
		t.Fatal(err)
	}
	p.kill(t)
	if err := p.SetDirectory(ctx, whitelisting("")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("push to a plugin that cannot start: %v, want ErrUnavailable", err)
	}
	if err := os.Rename(away, bin); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute) // past the backoff
	d := decide(t, p)
	if d.Allow || !slices.Contains(d.Reasons, "deny:not_whitelisted") {
		t.Fatalf("decision %+v after the restart: the last directory given was not pushed", d)
	}
	if p.Restarts() != 1 {
		t.Errorf("restarts %d, want 1", p.Restarts())
	}
}

// TestCallOnClosedConnectionIsRetried gives the supervisor an instance
// whose connection was closed under the call (a cancellation the caller
// did not ask for, as when another call retires a dead plugin while this
// one waits): the call is retried on a restarted plugin instead of
// failing with the cancellation.
func TestCallOnClosedConnectionIsRetried(t *testing.T) {
	src := &dirSource{dir: whitelisting("acme.com")}
	p, _ := startPlugin(t, src, nil)
	p.mu.Lock()
	real := p.inst
	closing := newFakeAuth()
	closing.decideErr = fmt.Errorf("plugin: Decide: grpc: the client connection is closing: %w", context.Canceled)
	p.inst = &instance{client: &goplugin.Client{}, auth: closing, started: time.Now()}
	p.mu.Unlock()
	t.Cleanup(real.client.Kill)

	if d := decide(t, p); !d.Allow {
		t.Fatalf("decision %+v", d)
	}
	if len(closing.inputs) != 1 || p.Restarts() != 1 {
		t.Fatalf("calls on the closed instance %d, restarts %d; want 1 and 1", len(closing.inputs), p.Restarts())
	}

	// A cancellation the caller asked for is the caller's, not a lost plugin.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Decide(ctx, newcomer); errors.Is(err, ErrUnavailable) {
		t.Errorf("a call cancelled by its caller reported the plugin down: %v", err)
	}
	if p.Restarts() != 1 {
		t.Errorf("restarts %d after a cancelled call, want 1", p.Restarts())
	}
}

// TestStartTimeout launches a "plugin" that never answers the handshake:
// Start gives up at StartTimeout and leaves no process behind.
func TestStartTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the start timeout")
	}
	bin := filepath.Join(t.TempDir(), "silent-plugin")
	// exec: the process go-plugin starts is the one that hangs, so killing
	// it leaves nothing running.
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexec sleep 300\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	logger, _ := testLogger(t)
	const timeout = time.Second
	start := time.Now()
	p, err := Start(context.Background(), Config{PluginPath: bin, SkipHostEnv: true, Logger: logger, StartTimeout: timeout})
	elapsed := time.Since(start)
	if err == nil {
		p.Close()
		t.Fatal("a plugin that never answered the handshake started")
	}
	if !strings.Contains(err.Error(), bin) {
		t.Errorf("error %q does not name the plugin", err)
	}
	if elapsed < timeout || elapsed > timeout+30*time.Second {
		t.Errorf("Start gave up after %s; StartTimeout is %s", elapsed, timeout)
	}
	if kids := children(t, "sleep"); len(kids) > 0 {
		t.Errorf("the silent plugin still runs: pids %v", kids)
	}
}

// children returns the live child processes of this test whose command
// name is comm, read from /proc.
func children(t *testing.T, comm string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(s[end+1:])
		if s[open+1:end] == comm && len(f) > 1 && f[0] != "Z" && f[1] == strconv.Itoa(os.Getpid()) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestChecksumCheckedAtRestart replaces the plugin binary while the
// plugin runs: the restart after a crash refuses the new binary.
func TestChecksumCheckedAtRestart(t *testing.T) {
	bin, b := copyPlugin(t)
	logger, _ := testLogger(t)
	src := &dirSource{dir: whitelisting("acme.com")}
	p, err := Start(context.Background(), Config{PluginPath: bin, Checksum: sha256File(t, bin), Env: emulatorEnv(t),
		SkipHostEnv: true, Logger: logger, Directory: src.read})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	// Replaced by rename, as an upgrade would: the running process keeps
	// its file.
	swapped := bin + ".new"
	if err := os.WriteFile(swapped, append(b, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(swapped, bin); err != nil {
		t.Fatal(err)
	}
	p.kill(t)
	_, err = p.Decide(context.Background(), newcomer)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("error %v, want ErrUnavailable caused by ErrChecksumMismatch", err)
	}
	if p.Restarts() != 0 {
		t.Errorf("restarts %d, want 0", p.Restarts())
	}
}

// copyPlugin copies the built plugin into a temporary directory the test
// may rename or replace it in, and returns the copy's path and contents.
func copyPlugin(t *testing.T) (string, []byte) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pingauthz-plugin")
	b, err := os.ReadFile(pluginBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, b
}

// TestStartNeverSearchesPath puts the plugin on PATH only: a bare name is
// a file in the working directory, so Start does not find it.
func TestStartNeverSearchesPath(t *testing.T) {
	bin, _ := copyPlugin(t)
	t.Setenv("PATH", filepath.Dir(bin))
	t.Chdir(t.TempDir())
	logger, _ := testLogger(t)
	_, err := startOrClose(t, Config{PluginPath: filepath.Base(bin), Env: emulatorEnv(t), SkipHostEnv: true, Logger: logger})
	if err == nil {
		t.Fatal("Start found the plugin through PATH")
	}
	if !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("error %v, want one saying ./%s does not exist", err, filepath.Base(bin))
	}
}

// TestStartResolvesThePathOnce starts the plugin through a symlink, then
// points the symlink at another file: a restart runs the file resolved at
// Start.
func TestStartResolvesThePathOnce(t *testing.T) {
	bin, _ := copyPlugin(t)
	dir := t.TempDir()
	link := filepath.Join(dir, "current")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	logger, _ := testLogger(t)
	src := &dirSource{dir: whitelisting("acme.com")}
	p, err := Start(context.Background(), Config{PluginPath: link, Env: emulatorEnv(t), SkipHostEnv: true,
		Logger: logger, Directory: src.read})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	broken := filepath.Join(dir, "broken")
	if err := os.WriteFile(broken, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(broken, link); err != nil {
		t.Fatal(err)
	}
	p.kill(t)
	if d := decide(t, p); !d.Allow {
		t.Fatalf("decision %+v after the restart", d)
	}
	if p.Restarts() != 1 {
		t.Fatalf("restarts %d, want 1", p.Restarts())
	}
}
