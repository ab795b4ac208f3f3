package metrics

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/plugin"
)

func TestCallCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want codes.Code
	}{
		{nil, codes.OK},
		{&plugin.LoginError{Kind: plugin.KindInvalidState}, codes.FailedPrecondition},
		{fmt.Errorf("wrapped: %w", &plugin.LoginError{Kind: plugin.KindVerification}), codes.Unauthenticated},
		{&plugin.LoginError{Kind: plugin.KindInternal}, codes.Internal},
		{&host.UnavailableError{Err: status.Error(codes.Unavailable, "connection reset")}, codes.Unavailable},
		{host.ErrClosed, codes.Unavailable},
		{fmt.Errorf("plugin: Decide: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		{context.Canceled, codes.Canceled},
		{status.Error(codes.ResourceExhausted, "too big"), codes.ResourceExhausted},
		{errors.New("something else"), codes.Unknown},
	} {
		if got := callCode(tc.err); got != tc.want {
			t.Errorf("callCode(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}

func TestPluginCall(t *testing.T) {
	m := New(Options{})
	m.PluginCall("Begin", nil)
	m.PluginCall("Begin", nil)
	m.PluginCall("Complete", &plugin.LoginError{Kind: plugin.KindInvalidState})
	m.PluginCall("Decide", &host.UnavailableError{})
	m.PluginCall("Shutdown", nil)
	fams := gather(t, m)
	const name = "pingauthz_plugin_rpcs_total"
	want(t, fams, 2, name, "method", "Begin", "code", "OK")
	want(t, fams, 1, name, "method", "Complete", "code", "FailedPrecondition")
	want(t, fams, 1, name, "method", "Decide", "code", "Unavailable")
	want(t, fams, 1, name, "method", "other", "code", "OK")
}

// fakePlugin is a Plugin whose state the test sets.
type fakePlugin struct {
	mu       sync.Mutex
	pid      int
	restarts int
	info     plugin.Info
	err      error
	calls    int
}

func (f *fakePlugin) Info(context.Context) (*plugin.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	info := f.info
	return &info, nil
}

func (f *fakePlugin) PID() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pid
}

func (f *fakePlugin) Restarts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.restarts
}

func (f *fakePlugin) set(change func(*fakePlugin)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func TestWatchPlugin(t *testing.T) {
	m := New(Options{})
	p := &fakePlugin{pid: os.Getpid(), restarts: 2, info: plugin.Info{
		PolicyRevision: "sha256:aaa",
		Stats: plugin.Stats{
			PolicyReloads: 3, PolicyReloadFailures: 1, PolicyLastError: "extra.rego:3: rego_parse_error",
			DecisionLogEvents: 40, DecisionLogMaskFailures: 2, DecisionLogBuffered: 7, DecisionLogDropped: 5,
			DecisionLogChunksUploaded: 9, DecisionLogUploadFailures: 4,
		},
	}}
	if err := m.WatchPlugin(p); err != nil {
		t.Fatal(err)
	}
	if err := m.WatchPlugin(p); err == nil {
		t.Error("a second WatchPlugin succeeded")
	}
	fams := gather(t, m)
	for _, c := range []struct {
		name   string
		v      float64
		labels []string
	}{
		{"pingauthz_plugin_up", 1, nil},
		{"pingauthz_plugin_restarts_total", 2, nil},
		{"pingauthz_policy_info", 1, []string{"revision", "sha256:aaa", "bundle_revision", ""}},
		{"pingauthz_policy_reloads_total", 3, nil},
		{"pingauthz_policy_reload_failures_total", 1, nil},
		{"pingauthz_policy_reload_failing", 1, nil},
		{"pingauthz_decision_log_events_total", 40, nil},
		{"pingauthz_decision_log_mask_failures_total", 2, nil},
		{"pingauthz_decision_log_buffered_events", 7, nil},
		{"pingauthz_decision_log_dropped_events_total", 5, nil},
		{"pingauthz_decision_log_uploads_total", 9, []string{"result", "ok"}},
		{"pingauthz_decision_log_uploads_total", 4, []string{"result", "failed"}},
	} {
		want(t, fams, c.v, c.name, c.labels...)
	}
	if _, ok := fams.Value("pingauthz_plugin_process_start_time_seconds"); !ok {
		t.Error("no process metrics of the plugin")
	}

	// A new revision replaces the old one: policy_info keeps one series.
	p.set(func(f *fakePlugin) {
		f.info.PolicyRevision, f.info.BundleRevision = "sha256:bbb", "2030-01-02"
		f.info.Stats.PolicyLastError = ""
	})
	fams = gather(t, m)
	want(t, fams, 1, "pingauthz_policy_info", "revision", "sha256:bbb", "bundle_revision", "2030-01-02")
	want(t, fams, 0, "pingauthz_policy_reload_failing")
	if n := fams.Series("pingauthz_policy_info"); n != 1 {
		t.Errorf("%d policy_info series, want only the active one", n)
	}
}

// TestWatchPluginDown: while no plugin runs, a scrape does not call it
// (which would start it again) and leaves out its figures; a failing Info
// call does the same.
func TestWatchPluginDown(t *testing.T) {
	m := New(Options{})
	p := &fakePlugin{restarts: 1, info: plugin.Info{PolicyRevision: "sha256:aaa"}}
	if err := m.WatchPlugin(p); err != nil {
		t.Fatal(err)
	}
	fams := gather(t, m)
	want(t, fams, 0, "pingauthz_plugin_up")
	want(t, fams, 1, "pingauthz_plugin_restarts_total")
	if p.calls != 0 {
		t.Errorf("a scrape called Info %d times while the plugin was down", p.calls)
	}
	for _, name := range []string{"pingauthz_policy_info", "pingauthz_decision_log_events_total", "pingauthz_plugin_process_start_time_seconds"} {
		if fams[name] != nil {
			t.Errorf("%s reported while the plugin is down", name)
		}
	}
	p.set(func(f *fakePlugin) { f.pid, f.err = os.Getpid(), &host.UnavailableError{} })
	fams = gather(t, m)
	want(t, fams, 0, "pingauthz_plugin_up")
	if fams["pingauthz_policy_info"] != nil {
		t.Error("policy_info reported although Info failed")
	}
}
