// Package gctune sets the garbage collector's target for the pingauthz
// processes. It does not set a memory limit: GOMEMLIMIT stays the
// operator's choice.
package gctune

import "runtime/debug"

// Percent is the GC target (GOGC) the server and the plugin run with unless
// GOGC is set. A login allocates a lot that dies at once; at 200 a login
// at 8 concurrent costs 8–20% less CPU than at Go's default of 100, for
// about 3 MB more resident memory per process (bench/README.md).
const Percent = 200

// Apply sets the GC target to Percent unless getenv("GOGC") is set, in
// which case the runtime has already applied it.
func Apply(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(Percent)
	}
}
