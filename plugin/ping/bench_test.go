package ping

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/internal/pingemu"
)

// BenchmarkLogin measures a full login against the in-process emulator on
// loopback. "rp" counts Begin + Complete only (the code exchange, JWKS
// cache, ID token and userinfo checks); "end-to-end" adds the emulator's
// login form as a browser would drive it.
func BenchmarkLogin(b *testing.B) {
	for _, mode := range []string{"rp", "end-to-end"} {
		b.Run(mode, func(b *testing.B) {
			e := newTestEnv(b, envOpts{clientPKCE: pingemu.PKCES256Required, mutate: pkceOn})
			ctx := context.Background()
			hc := &http.Client{Timeout: 10 * time.Second}
			b.ReportAllocs()
			for b.Loop() {
				authURL, sealed, err := e.rp.Begin(ctx, testRedirect, "/")
				if err != nil {
					b.Fatal(err)
				}
				if mode == "rp" {
					b.StopTimer()
				}
				cb, err := pingemu.Login(ctx, hc, authURL, "alice", "alice-pw")
				if err != nil {
					b.Fatal(err)
				}
				if mode == "rp" {
					b.StartTimer()
				}
				if _, err := e.rp.Complete(ctx, testRedirect, sealed, cb.Query()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
