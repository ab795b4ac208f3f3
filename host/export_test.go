package host

import "testing"

// Hooks for the external tests of this package.

// BuildPluginForTest returns the path of the plugin binary built for the tests.
func BuildPluginForTest(t *testing.T) string { return pluginBinary(t) }

// KillForTest kills the plugin process and waits until it is seen to exit.
func (p *Plugin) KillForTest(t *testing.T) int { return p.kill(t) }
