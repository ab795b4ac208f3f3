//go:build linux

package host

import (
	"os/exec"
	"syscall"
)

// stopWithHost asks the kernel to kill the plugin process when the host
// dies, so a host killed outright (SIGKILL, the OOM killer) does not leave
// its plugin running; go-plugin plugins do not notice a dead host. The
// signal follows the thread that started the process, which in Go lives
// as long as the process unless it was locked with runtime.LockOSThread,
// which the launch never does.
func stopWithHost(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
