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
		want int // the target Apply reports and the runtime has after
	}{
		{"", Percent},
		{"150", 150},
		{"off", -1},
	}
	for _, tc := range tests {
		t.Run("GOGC="+tc.gogc, func(t *testing.T) {
			debug.SetGCPercent(tc.want) // what the runtime took from GOGC
			if tc.gogc == "" {
				debug.SetGCPercent(100)
			}
			got := Apply(func(k string) string {
				if k == "GOGC" {
					return tc.gogc
				}
				return ""
			})
			if got != tc.want {
				t.Errorf("Apply = %d, want %d", got, tc.want)
			}
			if now := debug.SetGCPercent(100); now != tc.want {
				t.Errorf("the runtime's target is %d, want %d", now, tc.want)
			}
		})
	}
}
