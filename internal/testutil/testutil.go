// Package testutil holds helpers shared by the tests of several packages:
// a goroutine-safe log sink and a test logger. It is for tests only; no
// production package imports it.
package testutil

import (
	"bytes"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// SyncBuffer is a bytes.Buffer guarded by a mutex, so loggers and process
// pipes may write to it from other goroutines, even after the test returns.
// It keeps everything written; it does not cap its size.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Logger returns a debug-level logger named name and the buffer it writes
// to. The log is printed with tb.Logf when tb has failed at cleanup; it is
// not printed for passing tests.
func Logger(tb testing.TB, name string) (hclog.Logger, *SyncBuffer) {
	buf := &SyncBuffer{}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("%s log:\n%s", name, buf.String())
		}
	})
	return hclog.New(&hclog.LoggerOptions{Name: name, Output: buf, Level: hclog.Debug}), buf
}
