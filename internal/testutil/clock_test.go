package testutil

import (
	"testing"
	"time"
)

func TestClockAdvance(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewClock(start)
	tests := []struct {
		name string
		by   time.Duration
		want time.Time
	}{
		{"forward", time.Minute, start.Add(time.Minute)},
		{"backward", -2 * time.Minute, start.Add(-time.Minute)},
		{"still", 0, start.Add(-time.Minute)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.Advance(tc.by)
			if got := c.Now(); !got.Equal(tc.want) {
				t.Errorf("Now() = %v, want %v", got, tc.want)
			}
		})
	}
}
