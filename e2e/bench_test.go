package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/procfs"
)

// benchUsers returns n emulator accounts in the demo team group.
func benchUsers(n int) []pingemu.User {
	users := make([]pingemu.User, n)
	for i := range users {
		name := fmt.Sprintf("user%06d", i)
		users[i] = pingemu.User{
			Username: name,
			Password: name + "-pw",
			Claims:   map[string]any{"email": name + "@example.com", "email_verified": true, "name": name},
			Groups:   []string{demo.TeamGroup},
		}
	}
	return users
}

// fullLogin runs one login as a new browser (a fresh cookie jar) over the
// shared transport and fails unless it ends on a session.
func fullLogin(ctx context.Context, serverURL string, tr http.RoundTripper, u pingemu.User) error {
	r, err := demo.Login(ctx, demo.NewBrowserClient(tr), serverURL, u.Username, u.Password)
	if err != nil {
		return err
	}
	if r.Status != http.StatusSeeOther || !r.Session {
		return fmt.Errorf("callback: status %d, session %v", r.Status, r.Session)
	}
	return nil
}

// runLogins runs n logins, pick(i) choosing the account of the i-th, with
// the given number of concurrent workers. It returns every login's latency
// and the wall time.
func runLogins(tb testing.TB, serverURL string, n, workers int, pick func(i int) pingemu.User) ([]time.Duration, time.Duration) {
	tb.Helper()
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	ctx := context.Background()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for failed.Load() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := fullLogin(ctx, serverURL, tr, pick(i)); err != nil {
					err = fmt.Errorf("login %d (%s): %w", i, pick(i).Username, err)
					failed.CompareAndSwap(nil, &err)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	if err := failed.Load(); err != nil {
		tb.Fatal(*err)
	}
	return lat, wall
}

// percentile returns the p-th percentile (0..100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// reportLogins reports logins/s and p50/p99 latency in milliseconds.
func reportLogins(b *testing.B, lat []time.Duration, wall time.Duration) {
	s := slices.Clone(lat)
	slices.Sort(s)
	b.ReportMetric(float64(len(lat))/wall.Seconds(), "logins/s")
	b.ReportMetric(float64(percentile(s, 50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(s, 99).Microseconds())/1000, "p99-ms")
}

// BenchmarkLogin measures full logins: an HTTP client with no browser, the
// emulator in this process, SQLite on disk and the plugin as its own
// process. "signup" logs in a new user every time; "login" repeats users
// who already exist. Each runs one at a time and 8 at a time.
func BenchmarkLogin(b *testing.B) {
	for _, mode := range []string{"signup", "login"} {
		for _, workers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/concurrency=%d", mode, workers), func(b *testing.B) {
				const repeat = 64 // distinct users cycled in "login" mode
				n := b.N
				users := benchUsers(max(n, repeat))
				d := startDemo(b, demo.Options{Users: users, Logger: hclog.NewNullLogger()})
				pick := func(i int) pingemu.User { return users[i] }
				if mode == "login" {
					runLogins(b, d.URL, repeat, workers, pick) // sign them up first
					pick = func(i int) pingemu.User { return users[i%repeat] }
				}
				b.ResetTimer()
				lat, wall := runLogins(b, d.URL, n, workers, pick)
				b.StopTimer()
				reportLogins(b, lat, wall)
				if rss, err := pluginRSS(d); err == nil {
					b.ReportMetric(rss, "plugin-RSS-MB")
				}
			})
		}
	}
}

// pluginRSS returns the resident memory of the demo's plugin in MB.
func pluginRSS(d *demo.Demo) (float64, error) {
	pid := d.Server.Plugin.PID()
	if pid <= 0 {
		return 0, fmt.Errorf("the demo's plugin is not running")
	}
	kb, err := procfs.VmRSS(pid)
	return float64(kb) / 1024, err
}
