package metrics

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/metrics/metricstest"
	"github.com/pingauthz/pingauthz/plugin"
	"github.com/pingauthz/pingauthz/sso"
)

func TestDirectory(t *testing.T) {
	m := New(Options{})
	fams := gather(t, m)
	want(t, fams, 0, "pingauthz_directory_companies")
	want(t, fams, 0, "pingauthz_directory_whitelist_entries", "kind", "email")
	m.Directory(&sso.Directory{
		Companies: map[string]sso.Company{
			"c1": {Name: "One", Groups: []string{"ML Team", "Ops"}},
			"c2": {Name: "Two", Groups: []string{"Data"}},
			"c3": {Name: "Three"},
		},
		Whitelist: sso.Whitelist{
			Emails:  map[string]sso.WhitelistEntry{"ada@example.com": {Company: "c1"}},
			Domains: map[string]sso.WhitelistEntry{"example.com": {Company: "c1"}, "example.org": {Company: "c2"}},
		},
	})
	m.Directory(nil) // ignored
	fams = gather(t, m)
	want(t, fams, 3, "pingauthz_directory_companies")
	want(t, fams, 3, "pingauthz_directory_groups")
	want(t, fams, 1, "pingauthz_directory_whitelist_entries", "kind", "email")
	want(t, fams, 2, "pingauthz_directory_whitelist_entries", "kind", "domain")
	for _, v := range fams.LabelValues() {
		if strings.Contains(v, "example") {
			t.Errorf("label value %q names a whitelist entry", v)
		}
	}
}

// TestHandler scrapes the handler: the text format, every family of this
// package with help, the Go runtime and process collectors, and nothing in
// Prometheus's global registry.
func TestHandler(t *testing.T) {
	m := New(Options{})
	if err := m.WatchPlugin(&fakePlugin{pid: os.Getpid(), info: plugin.Info{PolicyRevision: "sha256:aaa"}}); err != nil {
		t.Fatal(err)
	}
	d := &sso.Decision{Allow: true, Reasons: []string{sso.ReasonExistingUser}}
	m.Login(host.LoginResult{Outcome: host.OutcomeAllowed, Reason: d.Reasons[0], Decision: d})
	m.Phase(host.PhaseBegin, time.Millisecond)
	m.PluginCall("Begin", nil)
	m.RateLimited("/login/ping")
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	fams, err := metricstest.Scrape(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		"go_goroutines", "go_gc_duration_seconds", "go_memstats_heap_alloc_bytes", "go_build_info",
		"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
		"pingauthz_logins_total", "pingauthz_login_decision_reasons_total", "pingauthz_login_phase_duration_seconds",
		"pingauthz_rate_limited_requests_total", "pingauthz_plugin_rpcs_total", "pingauthz_plugin_up",
		"pingauthz_plugin_restarts_total", "pingauthz_policy_info", "pingauthz_policy_reload_failures_total",
		"pingauthz_decision_log_buffered_events", "pingauthz_decision_log_dropped_events_total",
		"pingauthz_directory_companies", "pingauthz_directory_groups", "pingauthz_directory_whitelist_entries",
		"pingauthz_plugin_process_resident_memory_bytes",
	} {
		f := fams[name]
		if f == nil {
			t.Errorf("no %s", name)
			continue
		}
		if f.GetHelp() == "" {
			t.Errorf("%s has no help", name)
		}
	}
	global, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range global {
		if strings.HasPrefix(f.GetName(), "pingauthz_") {
			t.Errorf("%s is in the global registry", f.GetName())
		}
	}
}

// TestLint runs Prometheus's metric linter over every family.
func TestLint(t *testing.T) {
	m := New(Options{})
	if err := m.WatchPlugin(&fakePlugin{pid: os.Getpid()}); err != nil {
		t.Fatal(err)
	}
	m.Login(host.LoginResult{Outcome: host.OutcomeDenied, Reason: "deny:x", Decision: &sso.Decision{Reasons: []string{"deny:x"}}})
	m.Phase(host.PhaseApply, time.Millisecond)
	m.PluginCall("Decide", nil)
	m.RateLimited("/login/ping")
	list, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(list).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "pingauthz_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}
