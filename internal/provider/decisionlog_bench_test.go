package provider

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/decisionlog/dltest"
	"github.com/pingauthz/pingauthz/internal/procfs"
)

// BenchmarkDecideLogged measures a decision without and with the decision
// log. cpu-µs/op is the process's CPU time per decision (every goroutine:
// the uploads and the garbage collector too), which a loaded machine
// inflates less than ns/op.
func BenchmarkDecideLogged(b *testing.B) {
	cases := []struct {
		name string
		log  func(b *testing.B) config.DecisionLog
	}{
		{"off", func(*testing.B) config.DecisionLog { return config.DecisionLog{} }},
		{"file", func(b *testing.B) config.DecisionLog {
			return config.DecisionLog{File: filepath.Join(b.TempDir(), "d.jsonl")}
		}},
		{"collector", func(b *testing.B) config.DecisionLog { return config.DecisionLog{URL: dltest.New(b).URL} }},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			cfg := config.Default()
			cfg.AuthorizeURL, cfg.AccessTokenURL = "http://127.0.0.1:1/env/as/authorize", "http://127.0.0.1:1/env/as/token"
			cfg.ClientID, cfg.ClientSecret = clientID, clientSecret
			cfg.Groups.Enabled, cfg.Groups.Admins = true, []string{"Admins"}
			cfg.DecisionLog = bc.log(b)
			p, err := New(context.Background(), &cfg, Options{DecisionLogMaxDelay: time.Second})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			ctx := context.Background()
			if err := p.SetDirectory(ctx, directory()); err != nil {
				b.Fatal(err)
			}
			in := loginInput(1)
			b.ReportAllocs()
			start := procfs.SelfCPUTime()
			for b.Loop() {
				if _, err := p.Decide(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((procfs.SelfCPUTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
