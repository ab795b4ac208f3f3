// Package e2e holds the end-to-end tests of pingauthz: full logins over HTTP
// and in a real browser against the Ping emulator, the SQLite directory and
// the real plugin process, bad input and faults, and the login benchmarks.
// It has no code of its own; run it with `go test ./e2e/`.
package e2e
