package host

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pingauthz/pingauthz/plugin"
	"github.com/pingauthz/pingauthz/sso"
)

// recorder is an Observer that keeps what it is told, and whether the
// answer had been written when the login was reported.
type recorder struct {
	mu          sync.Mutex
	phases      []Phase
	logins      []LoginResult
	limited     []string
	wrote       bool // set by writeTracker
	lateReports int  // logins reported after the answer was written
}

func (r *recorder) Phase(p Phase, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d < 0 {
		panic("negative duration")
	}
	r.phases = append(r.phases, p)
}

func (r *recorder) Login(l LoginResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logins = append(r.logins, l)
	if r.wrote {
		r.lateReports++
	}
}

func (r *recorder) RateLimited(path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.limited = append(r.limited, path)
}

// reset forgets everything recorded.
func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.phases, r.logins, r.limited, r.wrote = nil, nil, nil, false
}

// writeTracker marks the recorder when the handler starts its answer.
type writeTracker struct {
	http.ResponseWriter
	r *recorder
}

func (w writeTracker) mark() {
	w.r.mu.Lock()
	w.r.wrote = true
	w.r.mu.Unlock()
}

func (w writeTracker) WriteHeader(code int) { w.mark(); w.ResponseWriter.WriteHeader(code) }

func (w writeTracker) Write(b []byte) (int, error) { w.mark(); return w.ResponseWriter.Write(b) }

// observedEnv is a testEnv whose handler reports to a recorder.
func observedEnv(t *testing.T, change func(*HandlerConfig)) (*testEnv, *recorder) {
	t.Helper()
	rec := &recorder{}
	e := newTestEnvWith(t, "http://127.0.0.1:8080", func(c *HandlerConfig) {
		c.Observer = rec
		if change != nil {
			change(c)
		}
	})
	h := e.h
	e.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.wrote = false
		rec.mu.Unlock()
		h.ServeHTTP(writeTracker{w, rec}, r)
	})
	return e, rec
}

func TestObserverAllowAndDeny(t *testing.T) {
	e, rec := observedEnv(t, nil)
	if resp := e.signIn("/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if !slices.Equal(rec.phases, Phases()) {
		t.Errorf("phases %v, want %v", rec.phases, Phases())
	}
	if len(rec.logins) != 1 || rec.logins[0].Outcome != OutcomeAllowed || rec.logins[0].Reason != "signup:default_company" ||
		rec.logins[0].Decision == nil || rec.logins[0].Decision.Role == nil {
		t.Errorf("logins %+v, want one allowed signup:default_company with its decision", rec.logins)
	}

	rec.reset()
	e.auth.decision = sso.Decision{Reasons: []string{"deny:contractor"}, Message: "no"}
	if resp := e.signIn("/"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if want := []Phase{PhaseBegin, PhaseExchange, PhaseLookup, PhaseDecide}; !slices.Equal(rec.phases, want) {
		t.Errorf("phases of a deny %v, want %v", rec.phases, want)
	}
	if len(rec.logins) != 1 || rec.logins[0].Outcome != OutcomeDenied || rec.logins[0].Reason != "deny:contractor" {
		t.Errorf("logins %+v, want one denied deny:contractor", rec.logins)
	}
	if rec.lateReports != 0 {
		t.Errorf("%d logins reported after the answer was written", rec.lateReports)
	}
}

// TestObserverFailures reports each failed callback once, with its
// reason, before the answer is written.
func TestObserverFailures(t *testing.T) {
	for _, tt := range []struct {
		name   string
		set    func(e *testEnv)
		reason string
		phases int
	}{
		{"invalid state", func(e *testEnv) { e.auth.completeErr = &plugin.LoginError{Kind: plugin.KindInvalidState} }, "invalid_state", 2},
		{"provider", func(e *testEnv) { e.auth.completeErr = &plugin.LoginError{Kind: plugin.KindProvider} }, "provider_error", 2},
		{"verification", func(e *testEnv) { e.auth.completeErr = &plugin.LoginError{Kind: plugin.KindVerification} }, "verification_failed", 2},
		{"provider down", func(e *testEnv) { e.auth.completeErr = &plugin.LoginError{Kind: plugin.KindUnavailable} }, "provider_unavailable", 2},
		{"login internal", func(e *testEnv) { e.auth.completeErr = &plugin.LoginError{Kind: plugin.KindInternal} }, "internal", 2},
		{"plugin down", func(e *testEnv) { e.auth.completeErr = &UnavailableError{} }, FailPluginUnavailable, 2},
		{"grpc unavailable", func(e *testEnv) { e.auth.completeErr = status.Error(codes.Unavailable, "x") }, FailPluginUnavailable, 2},
		{"timeout", func(e *testEnv) { e.auth.completeErr = context.DeadlineExceeded }, FailPluginTimeout, 2},
		{"other", func(e *testEnv) { e.auth.completeErr = errors.New("x") }, FailPluginError, 2},
		{"lookup", func(e *testEnv) { e.dir.findErr = errors.New("disk I/O error") }, FailLookup, 3},
		{"decide down", func(e *testEnv) { e.auth.decideErr = &UnavailableError{} }, FailPluginUnavailable, 4},
		{"apply", func(e *testEnv) { e.dir.applyErr = errors.New("constraint") }, FailApply, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, rec := observedEnv(t, nil)
			tt.set(e)
			e.signIn("/")
			if len(rec.logins) != 1 || rec.logins[0].Outcome != OutcomeFailed || rec.logins[0].Reason != tt.reason {
				t.Fatalf("logins %+v, want one failed %s", rec.logins, tt.reason)
			}
			if len(rec.phases) != tt.phases {
				t.Errorf("phases %v, want the first %d", rec.phases, tt.phases)
			}
			if rec.lateReports != 0 {
				t.Error("the login was reported after the answer was written")
			}
		})
	}
	t.Run("no state cookie", func(t *testing.T) {
		e, rec := observedEnv(t, nil)
		e.do("GET", CallbackPath+"?code=abc&state=x", nil)
		if len(rec.logins) != 1 || rec.logins[0].Reason != FailNoState || len(rec.phases) != 0 {
			t.Fatalf("logins %+v phases %v", rec.logins, rec.phases)
		}
	})
	t.Run("replayed", func(t *testing.T) {
		e, rec := observedEnv(t, nil)
		c, state := e.begin("/")
		e.do("GET", CallbackPath+"?code=abc&state="+state, nil, c)
		e.do("GET", CallbackPath+"?code=abc&state="+state, nil, c)
		if len(rec.logins) != 2 || rec.logins[1].Outcome != OutcomeFailed || rec.logins[1].Reason != FailReplayed ||
			rec.logins[1].Decision == nil {
			t.Fatalf("logins %+v, want the second failed as replayed, with its decision", rec.logins)
		}
	})
	t.Run("begin failure is no login", func(t *testing.T) {
		e, rec := observedEnv(t, nil)
		e.auth.beginErr = &UnavailableError{}
		e.do("GET", "/login/ping", nil)
		if len(rec.logins) != 0 || !slices.Equal(rec.phases, []Phase{PhaseBegin}) {
			t.Fatalf("logins %+v phases %v", rec.logins, rec.phases)
		}
	})
}

func TestObserverRateLimited(t *testing.T) {
	e, rec := observedEnv(t, func(c *HandlerConfig) { c.RateLimit = &RateLimit{Every: time.Hour, Burst: 1} })
	e.do("GET", "/login/ping", nil)
	e.do("GET", "/login/ping", nil)
	e.do("GET", CallbackPath+"?code=abc&state=x", nil)
	if want := []string{"/login/ping", CallbackPath}; !slices.Equal(rec.limited, want) {
		t.Errorf("rate limited %v, want %v", rec.limited, want)
	}
	if len(rec.logins) != 0 {
		t.Errorf("a refused callback was reported as a login: %+v", rec.logins)
	}
}

func TestFailReasons(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range FailReasons() {
		if seen[r] || r == "" {
			t.Errorf("reason %q empty or listed twice", r)
		}
		seen[r] = true
	}
	for k := plugin.KindInternal; k <= plugin.KindInvalidInput; k++ {
		if !seen[k.String()] {
			t.Errorf("kind %s missing", k)
		}
	}
}
