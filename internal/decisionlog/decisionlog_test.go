package decisionlog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/version"

	"github.com/pingauthz/pingauthz/internal/decisionlog/dltest"
)

const defaultMask = `package system.log

mask contains "/input/identity/claims"
`

func compileMask(t testing.TB, src string) *ast.Compiler {
	t.Helper()
	c, err := ast.CompileModulesWithOpt(map[string]string{"mask.rego": src},
		ast.CompileOpts{ParserOptions: ast.ParserOptions{RegoVersion: ast.RegoV1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testDecision(i int) *Decision {
	verified := true
	role := sso.RoleUser
	return &Decision{
		ID:   NewID(),
		Path: "clearml/sso/decision",
		Input: &sso.Input{Identity: sso.Identity{
			Issuer: "https://issuer.example", Subject: fmt.Sprintf("sub-%d", i), UserID: fmt.Sprintf("u%d", i),
			Email: fmt.Sprintf("user%d@example.com", i), EmailVerified: &verified, Name: "User",
			Groups: []string{"ML Team"},
			Claims: map[string]any{"sub": fmt.Sprintf("sub-%d", i), "secret_claim": "do not log",
				"address": map[string]any{"street": "1 Main St"}},
		}},
		Result: &sso.Decision{Allow: true, Signup: true, Company: "c1", Role: &role, SyncGroups: true,
			Groups: []string{"ML Team"}, Reasons: []string{"signup:default_company", "groups:synced"}},
		Revision:  "sha256:abc",
		Bundles:   map[string]string{"pingauthz": "r1"},
		Timestamp: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func newLogger(t *testing.T, o Options) *Logger {
	t.Helper()
	l, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = l.Close(ctx)
	})
	return l
}

func TestFileEventMasked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "decisions.jsonl")
	l := newLogger(t, Options{File: path, Labels: map[string]string{"id": "srv-1", "version": "v1.2.3"}})
	if err := l.SetCompiler(context.Background(), compileMask(t, defaultMask)); err != nil {
		t.Fatal(err)
	}
	d := testDecision(1)
	if err := l.Log(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Input.Identity.Claims["secret_claim"]; !ok {
		t.Fatal("masking changed the caller's input")
	}
	lines := dltest.ReadFile(t, path)
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1", len(lines))
	}
	e := lines[0]
	identity := e["input"].(map[string]any)["identity"].(map[string]any)
	if _, ok := identity["claims"]; ok {
		t.Errorf("claims were logged: %v", identity)
	}
	for _, k := range []string{"issuer", "subject", "user_id", "email", "name", "groups", "email_verified"} {
		if _, ok := identity[k]; !ok {
			t.Errorf("identity.%s missing: %v", k, identity)
		}
	}
	want := map[string]any{
		"decision_id": d.ID,
		"path":        "clearml/sso/decision",
		"revision":    "sha256:abc",
		"timestamp":   "2030-01-02T03:04:05Z",
		"labels":      map[string]any{"id": "srv-1", "version": "v1.2.3", "opa_version": version.Version},
		"bundles":     map[string]any{"pingauthz": map[string]any{"revision": "r1"}},
		"erased":      []any{"/input/identity/claims"},
	}
	for k, v := range want {
		if got, _ := json.Marshal(e[k]); string(got) != mustJSON(t, v) {
			t.Errorf("%s = %s, want %s", k, got, mustJSON(t, v))
		}
	}
	result := e["result"].(map[string]any)
	if got := mustJSON(t, result["reasons"]); got != `["signup:default_company","groups:synced"]` {
		t.Errorf("result.reasons = %s", got)
	}
	if s := l.Stats(); s.Events != 1 || s.MaskFailures != 0 {
		t.Errorf("stats = %+v", s)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A mask policy that fails must not lose the event: it is written with the
// whole input erased, and the failure is logged.
func TestMaskFailureErasesInput(t *testing.T) {
	tests := []struct {
		name string
		mask string
	}{
		{"wrong shape", "package system.log\n\nmask := \"everything\"\n"},
		{"conflict", "package system.log\n\nmask := input.decision_id\n\nmask := input.path\n"},
		{"bad path", "package system.log\n\nmask contains \"/labels/id\"\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "decisions.jsonl")
			var logBuf syncBuffer
			log := hclog.New(&hclog.LoggerOptions{Output: &logBuf, Level: hclog.Info})
			l := newLogger(t, Options{File: path, Logger: log})
			if err := l.SetCompiler(context.Background(), compileMask(t, tc.mask)); err != nil {
				t.Fatal(err)
			}
			d := testDecision(1)
			if err := l.Log(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			lines := dltest.ReadFile(t, path)
			if len(lines) != 1 {
				t.Fatalf("%d lines, want 1", len(lines))
			}
			e := lines[0]
			if _, ok := e["input"]; ok {
				t.Errorf("input was logged: %v", e["input"])
			}
			if e["decision_id"] != d.ID || e["result"] == nil {
				t.Errorf("event = %v", e)
			}
			if !strings.Contains(logBuf.String(), "mask policy failed") || !strings.Contains(logBuf.String(), d.ID) {
				t.Errorf("log does not report the failure:\n%s", logBuf.String())
			}
			if s := l.Stats(); s.Events != 1 || s.MaskFailures != 1 {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}

func TestConsoleLine(t *testing.T) {
	var buf syncBuffer
	log := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Info, JSONFormat: true})
	l := newLogger(t, Options{Console: true, Logger: log})
	if err := l.SetCompiler(context.Background(), compileMask(t, defaultMask)); err != nil {
		t.Fatal(err)
	}
	d := testDecision(2)
	if err := l.Log(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	var line struct {
		Message    string         `json:"@message"`
		DecisionID string         `json:"decision_id"`
		Event      map[string]any `json:"event"`
	}
	for _, raw := range bytes.Split([]byte(buf.String()), []byte("\n")) {
		if bytes.Contains(raw, []byte(`"decision log"`)) {
			if err := json.Unmarshal(raw, &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	if line.Message != "decision log" || line.DecisionID != d.ID || line.Event["decision_id"] != d.ID {
		t.Fatalf("no decision log line for %s in:\n%s", d.ID, buf.String())
	}
	if strings.Contains(buf.String(), "do not log") {
		t.Error("the console line carries a masked claim")
	}
}

// The collector receives every event of a burst exactly once, although it
// was unavailable, then dropped connections, for part of the burst.
func TestCollectorBurstExactlyOnce(t *testing.T) {
	col := dltest.New(t)
	l := newLogger(t, Options{URL: col.URL, MinDelay: 0, MaxDelay: time.Second, BufferEvents: 5000})
	if err := l.SetCompiler(context.Background(), compileMask(t, defaultMask)); err != nil {
		t.Fatal(err)
	}
	var ids []string
	logN := func(n int) {
		for range n {
			d := testDecision(len(ids))
			ids = append(ids, d.ID)
			if err := l.Log(context.Background(), d); err != nil {
				t.Fatal(err)
			}
		}
	}
	logN(300)
	col.Wait(t, time.Minute, "the first events", func(ev []dltest.Event, _ int) bool { return len(ev) > 0 })
	col.SetMode(dltest.Unavailable)
	logN(300)
	col.Wait(t, time.Minute, "a refused upload", func(_ []dltest.Event, refused int) bool { return refused >= 1 })
	col.SetMode(dltest.Broken)
	logN(200)
	col.Wait(t, time.Minute, "a broken upload", func(_ []dltest.Event, refused int) bool { return refused >= 2 })
	col.SetMode(dltest.Up)
	logN(200)
	col.Wait(t, 2*time.Minute, "1000 events", func(ev []dltest.Event, _ int) bool { return len(ev) >= len(ids) })

	counts := col.Counts()
	for _, id := range ids {
		if counts[id] != 1 {
			t.Errorf("event %s arrived %d times", id, counts[id])
		}
	}
	if len(counts) != len(ids) {
		t.Errorf("collector has %d distinct events, want %d", len(counts), len(ids))
	}
	for _, e := range col.Events() {
		if _, ok := e["input"].(map[string]any)["identity"].(map[string]any)["claims"]; ok {
			t.Fatalf("an uploaded event carries claims: %v", e)
		}
	}
	s := l.Stats()
	if s.UploadFailures == 0 || s.Dropped != 0 || s.Events != uint64(len(ids)) {
		t.Errorf("stats = %+v", s)
	}
}

// A full buffer drops the oldest events and counts them.
func TestBufferDropsCounted(t *testing.T) {
	col := dltest.New(t)
	col.SetMode(dltest.Unavailable)
	// Each of the two uploaders (masked and erased events) tries once as
	// it starts and then waits an hour. Logging only after both first,
	// empty tries keeps every event in the buffer: an upload in flight
	// would take some out and requeue them as one chunk.
	firstTry := &signalWriter{want: "before next upload", times: 2, seen: make(chan struct{})}
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: firstTry})
	l := newLogger(t, Options{Logger: logger, URL: col.URL, BufferEvents: 10, MinDelay: time.Hour, MaxDelay: time.Hour})
	select {
	case <-firstTry.seen:
	case <-time.After(time.Minute):
		t.Fatal("the uploader never made its first try")
	}
	t.Cleanup(func() { col.SetMode(dltest.Up) }) // so Close uploads at once
	for i := range 25 {
		if err := l.Log(context.Background(), testDecision(i)); err != nil {
			t.Fatal(err)
		}
	}
	s := l.Stats()
	if s.Dropped != 15 || s.Buffered != 10 {
		t.Errorf("stats = %+v, want 15 dropped and 10 buffered", s)
	}
}

func TestNewID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

// signalWriter closes seen once writes have contained want times times.
type signalWriter struct {
	want  string
	times int
	mu    sync.Mutex
	seen  chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.times > 0 && bytes.Contains(p, []byte(w.want)) {
		if w.times--; w.times == 0 {
			close(w.seen)
		}
	}
	return len(p), nil
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
