package metrics

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/metrics/metricstest"
	"github.com/pingauthz/pingauthz/internal/procfs"
	"github.com/pingauthz/pingauthz/sso"
)

// gather returns m's metrics.
func gather(t *testing.T, m *Metrics) metricstest.Families {
	t.Helper()
	fams, err := metricstest.Gather(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// want checks the value of one series.
func want(t *testing.T, fams metricstest.Families, v float64, name string, labels ...string) {
	t.Helper()
	got, ok := fams.Value(name, labels...)
	if !ok {
		t.Errorf("%s%v: no single series; have %v", name, labels, fams.Find(name))
		return
	}
	if got != v {
		t.Errorf("%s%v = %v, want %v", name, labels, got, v)
	}
}

func TestLogins(t *testing.T) {
	m := New(Options{})
	allow := &sso.Decision{Allow: true, Reasons: []string{sso.ReasonSignupWhitelistEmail, sso.ReasonRoleNewUser, sso.ReasonGroupsDisabled}}
	deny := &sso.Decision{Reasons: []string{"deny:contractor"}}
	for _, r := range []host.LoginResult{
		{Outcome: host.OutcomeAllowed, Reason: allow.Reasons[0], Decision: allow},
		{Outcome: host.OutcomeAllowed, Reason: allow.Reasons[0], Decision: allow},
		{Outcome: host.OutcomeDenied, Reason: deny.Reasons[0], Decision: deny},
		{Outcome: host.OutcomeFailed, Reason: host.FailReplayed, Decision: allow},
		{Outcome: host.OutcomeFailed, Reason: "invalid_state"},
		{Outcome: "weird", Reason: "ada@example.com"},
	} {
		m.Login(r)
	}
	fams := gather(t, m)
	const logins, reasons = "pingauthz_logins_total", "pingauthz_login_decision_reasons_total"
	want(t, fams, 2, logins, "outcome", "allowed", "reason", "signup:whitelist_email")
	want(t, fams, 1, logins, "outcome", "denied", "reason", "deny:contractor")
	want(t, fams, 1, logins, "outcome", "failed", "reason", "replayed")
	want(t, fams, 1, logins, "outcome", "failed", "reason", "invalid_state")
	want(t, fams, 1, logins, "outcome", "other", "reason", "other")
	want(t, fams, 3, reasons, "reason", "signup:whitelist_email")
	want(t, fams, 3, reasons, "reason", "role:new_user")
	want(t, fams, 1, reasons, "reason", "deny:contractor")
	if n := fams.Series(logins); n != 5 {
		t.Errorf("%d series of %s, want 5", n, logins)
	}
}

func TestPhases(t *testing.T) {
	m := New(Options{})
	for i, p := range host.Phases() {
		for range i + 1 {
			m.Phase(p, 3*time.Millisecond)
		}
	}
	m.Phase("unknown", time.Second)
	fams := gather(t, m)
	const name = "pingauthz_login_phase_duration_seconds"
	for i, p := range host.Phases() {
		want(t, fams, float64(i+1), name, "phase", string(p))
		h := fams.Find(name, "phase", string(p))[0].GetHistogram()
		if got, w := h.GetSampleSum(), float64(i+1)*0.003; got < w*0.999 || got > w*1.001 {
			t.Errorf("phase %s: sum %v, want %v", p, got, w)
		}
	}
	if n := fams.Series(name); n != len(host.Phases()) {
		t.Errorf("%d phases, want %d: an unknown phase became a series", n, len(host.Phases()))
	}
}

func TestRateLimited(t *testing.T) {
	m := New(Options{})
	m.RateLimited("/login/ping")
	m.RateLimited(host.CallbackPath)
	m.RateLimited(host.CallbackPath)
	m.RateLimited("/login/ping?u=ada@example.com")
	fams := gather(t, m)
	const name = "pingauthz_rate_limited_requests_total"
	want(t, fams, 1, name, "path", "/login/ping")
	want(t, fams, 2, name, "path", host.CallbackPath)
	want(t, fams, 1, name, "path", "other")
}

// TestDistinctOperatorCodesBounded sends more distinct operator reasons
// than the bound: the series stop growing at the bound.
func TestDistinctOperatorCodesBounded(t *testing.T) {
	m := New(Options{MaxExtraReasons: 5})
	for i := range 50 {
		d := &sso.Decision{Reasons: []string{fmt.Sprintf("deny:rule_%d", i)}}
		m.Login(host.LoginResult{Outcome: host.OutcomeDenied, Reason: d.Reasons[0], Decision: d})
	}
	fams := gather(t, m)
	if n := fams.Series("pingauthz_logins_total"); n != 6 {
		t.Errorf("%d login series, want 5 codes and other", n)
	}
	want(t, fams, 45, "pingauthz_logins_total", "outcome", "denied", "reason", "other")
	want(t, fams, 45, "pingauthz_login_decision_reasons_total", "reason", "other")
}

// BenchmarkObserveLogin is what the metrics add to one allowed login:
// five phases, the outcome with its three reasons, and three plugin calls.
// cpu-ns/op is the process's CPU time per login, steadier than ns/op on a
// shared machine.
func BenchmarkObserveLogin(b *testing.B) {
	m := New(Options{})
	d := &sso.Decision{Allow: true, Reasons: []string{sso.ReasonExistingUser, sso.ReasonRoleAdminGroup, sso.ReasonGroupsSynced}}
	b.ReportAllocs()
	start := selfCPU(b)
	for b.Loop() {
		for _, p := range host.Phases() {
			m.Phase(p, 2*time.Millisecond)
		}
		for _, method := range []string{"Begin", "Complete", "Decide"} {
			m.PluginCall(method, nil)
		}
		m.Login(host.LoginResult{Outcome: host.OutcomeAllowed, Reason: d.Reasons[0], Decision: d})
	}
	b.ReportMetric(float64(selfCPU(b)-start)/float64(b.N), "cpu-ns/op")
}

// selfCPU is the CPU time this process has used (10 ms resolution).
func selfCPU(b *testing.B) time.Duration {
	t, err := procfs.CPUTime(os.Getpid())
	if err != nil {
		b.Fatal(err)
	}
	return t
}
