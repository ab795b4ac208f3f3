package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/internal/metrics/metricstest"
	"github.com/pingauthz/pingauthz/internal/procfs"
)

// BenchmarkLoginMetrics measures repeat logins of 16 users, 4 at a time,
// through a server with the real plugin, without metrics ("off") and with
// them ("on", scraped every 500 logins, far more often than a Prometheus
// server would at these rates). cpu-ms/login is the CPU time of this
// process (server, emulator and clients, the same in both) and of the
// plugin process per login; compare the ranges of off and on over
// several runs:
//
//	go test -run '^$' -bench LoginMetrics -benchtime 2000x -count 3 ./internal/server
func BenchmarkLoginMetrics(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		b.Run(name, func(b *testing.B) { benchLogins(b, on) })
	}
}

func benchLogins(b *testing.B, on bool) {
	const users, workers, scrapeEvery = 16, 4, 500
	ls := startLoginServer(b, users, on)
	ctx := context.Background()
	login := func(name string) error { return ls.login(name, http.StatusSeeOther) }
	for i := range users {
		if err := login(fmt.Sprintf("member%02d", i)); err != nil {
			b.Fatal(err)
		}
	}
	pid := ls.srv.Plugin.PID()
	start := cpuOf(b, pid)
	b.ResetTimer()
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for failed.Load() == nil {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				err := login(fmt.Sprintf("member%02d", i%users))
				if err == nil && on && i%scrapeEvery == 0 {
					_, err = metricstest.Scrape(ctx, ls.metricsURL)
				}
				if err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	if ls.srv.Plugin.PID() != pid {
		b.Fatal("the plugin restarted during the run")
	}
	cpu := cpuOf(b, pid) - start
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/login")
}

// BenchmarkScrape measures one scrape of the metrics listener of a server
// with the real plugin (the plugin's Info call included), its answer read
// and discarded: cpu-ms/scrape is the CPU time of this process and of the
// plugin per scrape.
func BenchmarkScrape(b *testing.B) {
	ls := startLoginServer(b, 0, true)
	ctx := context.Background()
	pid := ls.srv.Plugin.PID()
	start := cpuOf(b, pid)
	for b.Loop() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ls.metricsURL, nil)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := ls.transport.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n == 0 {
			b.Fatalf("scrape: status %d, %d bytes", resp.StatusCode, n)
		}
	}
	cpu := cpuOf(b, pid) - start
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/scrape")
}

// cpuOf is the CPU time this process and the plugin process pid have used
// (10 ms resolution).
func cpuOf(b *testing.B, pid int) time.Duration {
	var sum time.Duration
	for _, p := range []int{os.Getpid(), pid} {
		t, err := procfs.CPUTime(p)
		if err != nil {
			b.Fatal(err)
		}
		sum += t
	}
	return sum
}
