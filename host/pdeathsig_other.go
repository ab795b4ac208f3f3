//go:build !linux

package host

import "os/exec"

// stopWithHost does nothing outside Linux: a plugin outlives a host that
// is killed outright.
func stopWithHost(*exec.Cmd) {}
