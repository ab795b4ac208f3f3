package main

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseRateLimit(t *testing.T) {
	for _, tt := range []struct {
		in    string
		every time.Duration
		burst int
		err   string
	}{
		{in: "off"},
		{in: "60/min", every: time.Second, burst: 60},
		{in: "60/min,burst=30", every: time.Second, burst: 30},
		{in: "2/s", every: 500 * time.Millisecond, burst: 2},
		{in: "90/h,burst=5", every: 40 * time.Second, burst: 5},
		{in: "60", err: "want N/s, N/min or N/h"},
		{in: "60/m", err: "want N/s, N/min or N/h"},
		{in: "0/min", err: "positive"},
		{in: "-5/min", err: "positive"},
		{in: "x/min", err: "positive"},
		{in: "60/min,burst=0", err: "burst=B"},
		{in: "60/min,bust=5", err: "burst=B"},
		{in: "9999999999999/s", err: "too many"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			rl, err := parseRateLimit(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.every == 0 {
				if rl != nil {
					t.Fatalf("%+v, want no limit", rl)
				}
				return
			}
			if rl == nil || rl.Every != tt.every || rl.Burst != tt.burst {
				t.Fatalf("%+v, want every %s burst %d", rl, tt.every, tt.burst)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes("10.0.0.0/8, 192.0.2.7,2001:db8::/32,::ffff:172.16.0.0/108, 10.1.2.3/16")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("10.1.0.0/16"),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("parsePrefixes = %v, want %v", got, want)
	}
	if _, err := parsePrefixes("10.0.0.0/8,proxy.internal"); err == nil || !strings.Contains(err.Error(), "proxy.internal") {
		t.Fatalf("error %v, want one naming proxy.internal", err)
	}
}
