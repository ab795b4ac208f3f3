package decisionlog

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/pingauthz/pingauthz/internal/decisionlog/dltest"
	"github.com/pingauthz/pingauthz/internal/procfs"
)

// BenchmarkLog measures what logging one decision adds to a login: the
// mask policy, and the file write or the push into the upload buffer.
// cpu-µs/op is the process's CPU time (all goroutines, GC included) per
// event, which a loaded machine does not inflate the way it does ns/op.
func BenchmarkLog(b *testing.B) {
	cases := []struct {
		name string
		opts func(b *testing.B) Options
	}{
		{"mask-only", func(*testing.B) Options { return Options{} }},
		{"file", func(b *testing.B) Options {
			return Options{File: filepath.Join(b.TempDir(), "d.jsonl")}
		}},
		{"collector", func(b *testing.B) Options {
			// A one-second upload interval: the uploads' CPU counts too.
			return Options{URL: dltest.New(b).URL, BufferEvents: 1 << 20, MinDelay: 0, MaxDelay: time.Second}
		}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			l, err := New(context.Background(), bc.opts(b))
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close(context.Background())
			if err := l.SetCompiler(context.Background(), compileMask(b, defaultMask)); err != nil {
				b.Fatal(err)
			}
			d := testDecision(1)
			if d.InputAST, err = ast.InterfaceToValue(inputDoc(d.Input)); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			start := procfs.SelfCPUTime()
			for b.Loop() {
				d.ID = NewID()
				if err := l.Log(ctx, d); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((procfs.SelfCPUTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
