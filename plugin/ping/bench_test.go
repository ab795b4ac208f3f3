package ping

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/procfs"
)

// BenchmarkLogin measures a full login against the in-process emulator on
// loopback, with the relying party's default HTTP client. cpu-ns/op is the
// process's CPU time per login in the timed part, the emulator's included. "rp" counts Begin + Complete only (the code exchange, JWKS
// cache, ID token and userinfo checks); "end-to-end" adds the emulator's
// login form as a browser would drive it.
func BenchmarkLogin(b *testing.B) {
	for _, mode := range []string{"rp", "end-to-end"} {
		b.Run(mode, func(b *testing.B) {
			e := newTestEnv(b, envOpts{clientPKCE: pingemu.PKCES256Required, mutate: pkceOn, defaultClient: true})
			ctx := context.Background()
			hc := &http.Client{Timeout: 10 * time.Second}
			b.ReportAllocs()
			var cpu time.Duration
			began := procfs.SelfCPUTime()
			for b.Loop() {
				authURL, sealed, err := e.rp.Begin(ctx, testRedirect, "/")
				if err != nil {
					b.Fatal(err)
				}
				if mode == "rp" {
					b.StopTimer()
					cpu += procfs.SelfCPUTime() - began
				}
				cb, err := pingemu.Login(ctx, hc, authURL, "alice", "alice-pw")
				if err != nil {
					b.Fatal(err)
				}
				if mode == "rp" {
					began = procfs.SelfCPUTime()
					b.StartTimer()
				}
				if _, err := e.rp.Complete(ctx, testRedirect, sealed, cb.Query()); err != nil {
					b.Fatal(err)
				}
			}
			if mode == "rp" {
				cpu += procfs.SelfCPUTime() - began
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// BenchmarkCompleteParallel measures Complete with 8 logins at once on the
// relying party's default HTTP client, as the plugin runs it. The logins'
// callbacks are made before the timer starts. dials/op counts the TCP
// connections opened per login: with too few idle connections kept per
// host, concurrent logins open new ones.
func BenchmarkCompleteParallel(b *testing.B) {
	e := newTestEnv(b, envOpts{clientPKCE: pingemu.PKCES256Required, mutate: pkceOn, defaultClient: true})
	type callback struct {
		sealed string
		query  url.Values
	}
	cbs := make(chan callback, b.N)
	for range b.N {
		cb, sealed := e.begin(b, "alice", "/")
		cbs <- callback{sealed, cb.Query()}
	}
	close(cbs)
	var dials atomic.Int64
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		ConnectStart: func(string, string) { dials.Add(1) },
	})
	b.ReportAllocs()
	b.SetParallelism(4) // 8 goroutines on 2 CPUs
	b.ResetTimer()
	began := procfs.SelfCPUTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := <-cbs
			if _, err := e.rp.Complete(ctx, testRedirect, c.sealed, c.query); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64((procfs.SelfCPUTime()-began).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(dials.Load())/float64(b.N), "dials/op")
}
