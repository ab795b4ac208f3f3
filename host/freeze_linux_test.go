//go:build linux

package host

import (
	"errors"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// freeze stops the plugin process (SIGSTOP) and returns once every thread
// of it has stopped. kill(2) returns before that: it wakes one thread to
// start the group stop, and until that thread runs, the others can still
// answer a call. The plugin is this process's child, so waitid reports the
// completed stop; WNOWAIT leaves the report for anyone else.
func (p *Plugin) freeze(t *testing.T) int {
	t.Helper()
	pid := p.signal(t, syscall.SIGSTOP)
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WSTOPPED|unix.WNOWAIT, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatalf("waiting for plugin %d to stop: %v", pid, err)
		}
		return pid
	}
}
