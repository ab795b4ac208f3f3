package gctune

import (
	"runtime/debug"
	"testing"
)

func TestApply(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	tests := []struct {
		gogc string
		want int // the runtime's target after Apply, from 100 before
	}{
		{"", Percent},
		{"150", 100}, // the runtime's own reading of GOGC stays
		{"off", 100},
	}
	for _, tc := range tests {
		t.Run("GOGC="+tc.gogc, func(t *testing.T) {
			debug.SetGCPercent(100)
			Apply(func(k string) string {
				if k == "GOGC" {
					return tc.gogc
				}
				return ""
			})
			if got := debug.SetGCPercent(100); got != tc.want {
				t.Errorf("GC target %d, want %d", got, tc.want)
			}
		})
	}
}
