package testutil

import (
	"strings"
	"sync"
	"testing"
)

func TestSyncBufferConcurrentWrites(t *testing.T) {
	var buf SyncBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				_, _ = buf.Write([]byte("x"))
			}
		}()
	}
	wg.Wait()
	if got := len(buf.String()); got != 800 {
		t.Errorf("buffer holds %d bytes, want 800", got)
	}
}

func TestLoggerWritesNamedDebugLines(t *testing.T) {
	logger, buf := Logger(t, "unit")
	logger.Debug("hello", "k", "v")
	out := buf.String()
	for _, want := range []string{"[DEBUG]", "unit:", "hello", "k=v"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}
