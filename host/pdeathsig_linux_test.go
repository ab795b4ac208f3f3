//go:build linux

package host

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pingauthz/pingauthz/internal/procfs"
)

// TestPluginDiesWithHost kills a host process outright (SIGKILL): its
// plugin process ends too instead of running on as an orphan.
func TestPluginDiesWithHost(t *testing.T) {
	bin := pluginBinary(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childHostEnv+"="+bin), emulatorEnv(t)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the host printed nothing: %s", stderr.String())
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "pid "))
	if err != nil || pid <= 0 {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("host said %q", sc.Text())
	}
	if !procfs.Alive(pid) {
		t.Fatalf("plugin %d is not running while its host runs", pid)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if !waitExit(t, pid, 30*time.Second) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("plugin %d still runs 30s after its host was killed", pid)
	}
}

// waitExit waits until the process pid (not necessarily a child) has
// ended, at most timeout, through a pidfd, which becomes readable when the
// process ends. It reports whether the process ended.
func waitExit(t *testing.T, pid int, timeout time.Duration) bool {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return true
	}
	if err != nil {
		t.Fatalf("pidfd_open(%d): %v", pid, err)
	}
	defer unix.Close(fd)
	deadline := time.Now().Add(timeout)
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(max(time.Until(deadline), 0).Milliseconds()))
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			t.Fatalf("poll on the pidfd of %d: %v", pid, err)
		}
		return n > 0
	}
}
