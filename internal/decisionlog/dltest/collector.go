// Package dltest is a decision-log collector for tests: an HTTP server on
// loopback that speaks OPA's decision-log upload protocol (POST /logs, a
// gzip-compressed JSON array of events) and can be taken down and brought
// back, and a reader of decision-log files. It is for tests and the load
// program; no production package imports it.
package dltest

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"
)

// Mode is how the collector answers uploads.
type Mode int

// Modes of a Collector.
const (
	// Up accepts every upload with 200.
	Up Mode = iota
	// Unavailable answers 503 and keeps nothing.
	Unavailable
	// Broken closes the connection without an answer and keeps nothing.
	Broken
)

// Event is an uploaded event as decoded JSON.
type Event map[string]any

// ID returns the event's decision_id.
func (e Event) ID() string { s, _ := e["decision_id"].(string); return s }

// Collector records the events uploaded to it.
type Collector struct {
	// URL is the service URL to configure; events arrive at URL/logs.
	URL string

	srv     *httptest.Server
	mu      sync.Mutex
	mode    Mode
	events  []Event
	counts  map[string]int
	refused int
	changed chan struct{} // closed and replaced on every request
}

// New starts a collector; the test's cleanup stops it.
func New(t testing.TB) *Collector {
	c := Start()
	t.Cleanup(c.Close)
	return c
}

// Start starts a collector on loopback; Close stops it.
func Start() *Collector {
	c := &Collector{counts: map[string]int{}, changed: make(chan struct{})}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	c.URL = c.srv.URL
	return c
}

// Close stops the collector.
func (c *Collector) Close() { c.srv.Close() }

// SetMode changes how uploads are answered from now on.
func (c *Collector) SetMode(m Mode) {
	c.mu.Lock()
	c.mode = m
	c.mu.Unlock()
}

func (c *Collector) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	mode := c.mode
	c.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/logs" {
		http.NotFound(w, r)
		return
	}
	var batch []Event
	if mode == Up {
		zr, err := gzip.NewReader(r.Body)
		if err == nil {
			err = json.NewDecoder(zr).Decode(&batch)
		}
		if err != nil || r.Header.Get("Content-Encoding") != "gzip" {
			http.Error(w, "want a gzip JSON array", http.StatusBadRequest)
			return
		}
	}
	c.mu.Lock()
	switch mode {
	case Up:
		for _, e := range batch {
			c.counts[e.ID()]++
		}
		c.events = append(c.events, batch...)
	default:
		c.refused++
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	switch mode {
	case Unavailable:
		http.Error(w, "collector down", http.StatusServiceUnavailable)
	case Broken:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		http.Error(w, "collector down", http.StatusServiceUnavailable)
	}
}

// Wait blocks until cond holds for the events received and the number of
// refused uploads, or fails the test after timeout.
func (c *Collector) Wait(t testing.TB, timeout time.Duration, what string, cond func(events []Event, refused int) bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		ok := cond(c.events, c.refused)
		ch := c.changed
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("collector: waited %s for %s", timeout, what)
		}
	}
}

// Events returns the events received so far.
func (c *Collector) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}

// Counts returns how often each decision_id arrived.
func (c *Collector) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

// ReadFile reads a decision-log file of JSON lines, failing the test on an
// unreadable file or line.
func ReadFile(t testing.TB, path string) []Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: line %q: %v", path, sc.Text(), err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
