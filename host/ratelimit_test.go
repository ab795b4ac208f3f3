package host

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/internal/testutil"
)

func prefixes(t *testing.T, ss ...string) []netip.Prefix {
	t.Helper()
	out := make([]netip.Prefix, 0, len(ss))
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestClientAddr(t *testing.T) {
	trusted := prefixes(t, "10.0.0.0/8", "2001:db8:1::/48")
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"no proxy", "203.0.113.7:5000", nil, "203.0.113.7"},
		{"untrusted peer's header is ignored", "203.0.113.7:5000", []string{"198.51.100.1"}, "203.0.113.7"},
		{"trusted proxy", "10.0.0.2:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"right-most untrusted wins over a spoofed left part", "10.0.0.2:443", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", "10.0.0.2:443", []string{"198.51.100.1, 10.9.9.9, 10.1.1.1"}, "198.51.100.1"},
		{"several headers in order", "10.0.0.2:443", []string{"1.1.1.1", "198.51.100.1, 10.1.1.1"}, "198.51.100.1"},
		{"all trusted: the left-most", "10.0.0.2:443", []string{"10.3.3.3, 10.1.1.1"}, "10.3.3.3"},
		{"trusted proxy without the header", "10.0.0.2:443", nil, "10.0.0.2"},
		{"malformed entry stops at the last trusted hop", "10.0.0.2:443", []string{"198.51.100.1, bogus, 10.1.1.1"}, "10.1.1.1"},
		{"entry with a port", "10.0.0.2:443", []string{"198.51.100.1:1234"}, "198.51.100.1"},
		{"IPv6 entry in brackets with a port", "10.0.0.2:443", []string{"[2001:db8:9::1]:80"}, "2001:db8:9::1"},
		{"IPv6 trusted proxy", "[2001:db8:1::5]:443", []string{"2001:db8:9::1"}, "2001:db8:9::1"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.2]:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"unreadable peer", "pipe", nil, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/login/ping", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientAddr(r, trusted).String(); got != tt.want {
				t.Fatalf("clientAddr = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestBucketKeyGroupsAnIPv6Slash64(t *testing.T) {
	a := bucketKey(netip.MustParseAddr("2001:db8:1:2:aaaa::1"))
	b := bucketKey(netip.MustParseAddr("2001:db8:1:2:bbbb::2"))
	c := bucketKey(netip.MustParseAddr("2001:db8:1:3::1"))
	if a != b || a == c {
		t.Fatalf("keys %s %s %s: want one per /64", a, b, c)
	}
	if k := bucketKey(netip.MustParseAddr("::ffff:192.0.2.1")); k.String() != "192.0.2.1" {
		t.Fatalf("IPv4-mapped key %s", k)
	}
}

func newTestLimiter(t *testing.T, rl RateLimit) (*limiter, *testutil.Clock) {
	t.Helper()
	if err := rl.validate(); err != nil {
		t.Fatal(err)
	}
	clock := testutil.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	return newLimiter(rl, clock.Now, hclog.NewNullLogger()), clock
}

func TestLimiterRefillAndRetryAfter(t *testing.T) {
	l, clock := newTestLimiter(t, RateLimit{Every: 2 * time.Second, Burst: 3})
	a := netip.MustParseAddr("203.0.113.7")
	for i := range 3 {
		if ok, _ := l.allow(a); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.allow(a)
	if ok || wait != 2*time.Second {
		t.Fatalf("after the burst: allowed %v, wait %s; want refused, 2s", ok, wait)
	}
	clock.Advance(1500 * time.Millisecond)
	if ok, wait := l.allow(a); ok || wait != 500*time.Millisecond {
		t.Fatalf("1.5s later: allowed %v, wait %s; want refused, 500ms", ok, wait)
	}
	clock.Advance(500 * time.Millisecond)
	if ok, _ := l.allow(a); !ok {
		t.Fatal("a token earned was refused")
	}
	if ok, _ := l.allow(netip.MustParseAddr("198.51.100.2")); !ok {
		t.Fatal("another client was refused")
	}
}

func TestLimiterForgetsIdleClients(t *testing.T) {
	l, clock := newTestLimiter(t, RateLimit{Every: time.Second, Burst: 2})
	for i := range 100 {
		l.allow(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}))
	}
	if n := l.size(); n != 100 {
		t.Fatalf("%d buckets, want 100", n)
	}
	// Every bucket is full again after one Every: the next request finds
	// them idle and forgets them.
	clock.Advance(time.Second)
	l.allow(netip.MustParseAddr("203.0.113.7"))
	if n := l.size(); n != 1 {
		t.Fatalf("%d buckets after the others went idle, want 1", n)
	}
}

// TestLimiterBoundedUnderAddressFlood sends 200,000 requests from as many
// addresses with no time passing: the buckets stay at MaxClients, every new
// address is served, and a client that is being limited stays limited
// while it keeps coming (it is used recently, so it is not the one dropped).
func TestLimiterBoundedUnderAddressFlood(t *testing.T) {
	const maxClients = 1000
	l, _ := newTestLimiter(t, RateLimit{Every: time.Minute, Burst: 1, MaxClients: maxClients})
	flooder := netip.MustParseAddr("203.0.113.7")
	l.allow(flooder)
	largest := 0
	for i := range 200_000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if ok, _ := l.allow(a); !ok {
			t.Fatalf("new client %s refused", a)
		}
		if i%100 == 0 {
			if ok, _ := l.allow(flooder); ok {
				t.Fatalf("the flooder was served again after %d other clients", i)
			}
		}
		largest = max(largest, l.size())
	}
	if largest > maxClients {
		t.Fatalf("%d buckets at most, want at most %d", largest, maxClients)
	}
	t.Logf("buckets after 200,000 addresses: %d (bound %d)", l.size(), maxClients)
}

func TestRateLimitValidation(t *testing.T) {
	for _, tt := range []struct {
		rl   RateLimit
		want string
	}{
		{RateLimit{Burst: 1}, "Every"},
		{RateLimit{Every: time.Second}, "Burst"},
		{RateLimit{Every: time.Second, Burst: 1, MaxClients: -1}, "MaxClients"},
		{RateLimit{Every: time.Second, Burst: 1, TrustedProxies: []netip.Prefix{{}}}, "TrustedProxies"},
	} {
		_, err := NewHandler(HandlerConfig{Auth: newFakeAuth(), Directory: newFakeDirectory(time.Now),
			PublicURL: "http://127.0.0.1:8080", RateLimit: &tt.rl})
		if err == nil || !strings.Contains(err.Error(), "HandlerConfig.RateLimit."+tt.want) {
			t.Errorf("%+v: error %v, want one naming RateLimit.%s", tt.rl, err, tt.want)
		}
	}
}

// loginFrom runs /login/ping and the callback from the peer remote with
// the given X-Forwarded-For, and returns both status codes and the last
// response.
func (e *testEnv) loginFrom(remote, xff string) (int, int, *http.Response) {
	e.t.Helper()
	var hdr http.Header
	if xff != "" {
		hdr = http.Header{"X-Forwarded-For": {xff}}
	}
	resp := e.doFrom(remote, "GET", "/login/ping", hdr)
	if resp.StatusCode != http.StatusFound {
		return resp.StatusCode, 0, resp
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	c := cookieNamed(resp, stateCookieName)
	cb := e.doFrom(remote, "GET", CallbackPath+"?code=abc&state="+loc.Query().Get("state"), hdr, c)
	return resp.StatusCode, cb.StatusCode, cb
}

func TestRateLimitedLoginFlood(t *testing.T) {
	const (
		flooder = "203.0.113.7:40000"
		other   = "198.51.100.2:40000"
		proxy   = "10.0.0.2:443"
	)
	rl := &RateLimit{Every: time.Second, Burst: 10, TrustedProxies: prefixes(t, "10.0.0.0/8")}
	e := newTestEnvWith(t, "http://127.0.0.1:8080", func(c *HandlerConfig) { c.RateLimit = rl })

	// The flooder repeats begin + provider error; each spoofs a new
	// X-Forwarded-For, which its untrusted peer address makes worthless.
	refused := 0
	var last *http.Response
	for i := range 200 {
		spoof := fmt.Sprintf("192.0.2.%d", i%250)
		resp := e.doFrom(flooder, "GET", "/login/ping", http.Header{"X-Forwarded-For": {spoof}})
		if resp.StatusCode == http.StatusTooManyRequests {
			refused++
			last = resp
			continue
		}
		resp = e.doFrom(flooder, "GET", CallbackPath+"?error=x&state=x", http.Header{"X-Forwarded-For": {spoof}},
			cookieNamed(resp, stateCookieName))
		if resp.StatusCode == http.StatusTooManyRequests {
			refused++
			last = resp
		}
	}
	if served := 200*2 - refused*2; refused < 190 {
		t.Fatalf("%d of the flooder's requests refused (about %d served), want all but the burst of 10", refused, served)
	}
	if got := last.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
	if !strings.Contains(textOf(byID(t, body(t, last), "error")), "Too many sign-in attempts") {
		t.Error("the 429 page does not say why")
	}
	if last.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the 429 page may be cached: %q", last.Header.Get("Cache-Control"))
	}

	// Meanwhile another client signs in.
	if b, c, _ := e.loginFrom(other, ""); b != http.StatusFound || c != http.StatusSeeOther {
		t.Fatalf("another client's login: statuses %d, %d; want 302, 303", b, c)
	}
	// Behind the trusted proxy, clients are told apart by X-Forwarded-For.
	for range 20 {
		e.doFrom(proxy, "GET", "/login/ping", http.Header{"X-Forwarded-For": {"192.0.2.50"}})
	}
	if b, _, _ := e.loginFrom(proxy, "192.0.2.50"); b != http.StatusTooManyRequests {
		t.Fatalf("the client flooding through the proxy: status %d, want 429", b)
	}
	if b, c, _ := e.loginFrom(proxy, "192.0.2.51"); b != http.StatusFound || c != http.StatusSeeOther {
		t.Fatalf("another client behind the proxy: statuses %d, %d; want 302, 303", b, c)
	}

	// Time refills the flooder's bucket.
	e.clock.Advance(2 * time.Second)
	if resp := e.doFrom(flooder, "GET", "/login/ping", nil); resp.StatusCode != http.StatusFound {
		t.Fatalf("after a pause the flooder gets %d, want 302", resp.StatusCode)
	}
	// The home page and the API are never limited.
	if resp := e.doFrom(flooder, "GET", "/", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("home page: %d", resp.StatusCode)
	}
}

func TestNoRateLimitByDefault(t *testing.T) {
	e := newTestEnv(t, "http://127.0.0.1:8080")
	for i := range 500 {
		if b, c, _ := e.loginFrom("203.0.113.7:40000", ""); b != http.StatusFound || c != http.StatusSeeOther {
			t.Fatalf("login %d: statuses %d, %d", i, b, c)
		}
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	e := newTestEnvWith(t, "http://127.0.0.1:8080", func(c *HandlerConfig) {
		c.RateLimit = &RateLimit{Every: 90 * time.Second, Burst: 1}
	})
	e.doFrom("203.0.113.7:1", "GET", "/login/ping", nil)
	resp := e.doFrom("203.0.113.7:1", "GET", "/login/ping", nil)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d", resp.StatusCode)
	}
	e.clock.Advance(500 * time.Millisecond)
	resp = e.doFrom("203.0.113.7:1", "GET", "/login/ping", nil)
	if got, _ := strconv.Atoi(resp.Header.Get("Retry-After")); got != 90 {
		t.Fatalf("Retry-After %q, want 90 (89.5s rounded up)", resp.Header.Get("Retry-After"))
	}
}

// BenchmarkLimiterNewClients measures a request from an address not seen
// before once the limiter is full: the memory per op is about one bucket.
func BenchmarkLimiterNewClients(b *testing.B) {
	rl := RateLimit{Every: time.Second, Burst: 10}
	if err := rl.validate(); err != nil {
		b.Fatal(err)
	}
	clock := testutil.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	l := newLimiter(rl, clock.Now, hclog.NewNullLogger())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		l.allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	b.ReportMetric(float64(l.size()), "buckets")
}
