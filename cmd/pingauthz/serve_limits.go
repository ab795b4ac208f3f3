package main

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pingauthz/pingauthz/host"
)

// rateUnits are the units --rate-limit accepts after the slash.
var rateUnits = map[string]time.Duration{"s": time.Second, "min": time.Minute, "h": time.Hour}

// parseRateLimit parses --rate-limit: "off", or N/s, N/min or N/h with an
// optional ",burst=B" (B defaults to N). It returns nil for "off".
func parseRateLimit(s string) (*host.RateLimit, error) {
	if s == "off" || s == "" {
		return nil, nil
	}
	spec, burstSpec, hasBurst := strings.Cut(s, ",")
	count, unit, ok := strings.Cut(spec, "/")
	per, known := rateUnits[unit]
	if !ok || !known {
		return nil, errors.New("want N/s, N/min or N/h, optionally followed by ,burst=B, or off")
	}
	n, err := strconv.Atoi(count)
	if err != nil || n <= 0 {
		return nil, fmt.Errorf("the count %q must be a positive whole number", count)
	}
	burst := n
	if hasBurst {
		v, found := strings.CutPrefix(burstSpec, "burst=")
		if burst, err = strconv.Atoi(v); !found || err != nil || burst <= 0 {
			return nil, fmt.Errorf("%q: want burst=B with B a positive whole number", burstSpec)
		}
	}
	every := per / time.Duration(n)
	if every <= 0 {
		return nil, fmt.Errorf("%d per %s is too many", n, unit)
	}
	return &host.RateLimit{Every: every, Burst: burst}, nil
}

// parsePrefixes parses comma-separated CIDRs; a bare address is a /32 or
// /128.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if a, err := netip.ParseAddr(item); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR such as 10.0.0.0/8", item)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
