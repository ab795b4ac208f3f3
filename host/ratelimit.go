package host

import (
	"container/list"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/time/rate"
)

// DefaultRateLimitClients is RateLimit.MaxClients when it is zero.
const DefaultRateLimitClients = 65536

// RateLimit limits how often each client may call /login/ping and
// /callback_ping, with one token bucket per client address (an IPv6 client
// is its /64). Both paths draw from the same bucket, so a sign-in costs two
// tokens. A refused request gets a 429 page with Retry-After.
//
// It does not tell apart clients that share an address: behind a reverse
// proxy every client has the proxy's address unless TrustedProxies names
// the proxy. It keeps no state across restarts or replicas.
type RateLimit struct {
	// Every is the time in which a client earns one more request.
	Every time.Duration
	// Burst is how many requests a client with a full bucket may make at
	// once, and the bucket's size.
	Burst int
	// TrustedProxies are the peers whose X-Forwarded-For is believed: the
	// client is the right-most address in it that is not in one of these
	// ranges. The header of any other peer is ignored.
	TrustedProxies []netip.Prefix
	// MaxClients bounds the buckets kept at once; zero means
	// DefaultRateLimitClients. At the bound, the bucket used least recently
	// is dropped, so a new client is never refused for lack of room (a
	// dropped client starts again with a full bucket).
	MaxClients int
}

// validate checks the settings and fills in the defaults.
func (rl *RateLimit) validate() error {
	switch {
	case rl.Every <= 0:
		return fmt.Errorf("RateLimit.Every %s must be positive", rl.Every)
	case rl.Burst <= 0:
		return fmt.Errorf("RateLimit.Burst %d must be positive", rl.Burst)
	case rl.MaxClients < 0:
		return fmt.Errorf("RateLimit.MaxClients %d is negative", rl.MaxClients)
	}
	for _, p := range rl.TrustedProxies {
		if !p.IsValid() {
			return errors.New("RateLimit.TrustedProxies holds an invalid prefix")
		}
	}
	if rl.MaxClients == 0 {
		rl.MaxClients = DefaultRateLimitClients
	}
	return nil
}

// limiter holds the token buckets of the clients, most recently used first.
// A bucket that has filled up again is forgotten: a new one is the same.
type limiter struct {
	cfg RateLimit
	now func() time.Time
	log hclog.Logger

	mu      sync.Mutex
	buckets map[netip.Addr]*list.Element // of *bucket
	recent  list.List                    // *bucket, most recently used at the front
}

type bucket struct {
	key netip.Addr
	lim *rate.Limiter
	// refused is set once a refusal of this client was logged, so a flood
	// logs one line until the client is served again.
	refused bool
}

func newLimiter(cfg RateLimit, now func() time.Time, log hclog.Logger) *limiter {
	return &limiter{cfg: cfg, now: now, log: log, buckets: make(map[netip.Addr]*list.Element)}
}

// allow takes a token from the client's bucket. When there is none it
// returns false and how long until there is one.
func (l *limiter) allow(client netip.Addr) (bool, time.Duration) {
	key := bucketKey(client)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forgetIdle(now)
	e, ok := l.buckets[key]
	if ok {
		l.recent.MoveToFront(e)
	} else {
		if len(l.buckets) >= l.cfg.MaxClients {
			l.drop(l.recent.Back())
		}
		b := &bucket{key: key, lim: rate.NewLimiter(rate.Every(l.cfg.Every), l.cfg.Burst)}
		e = l.recent.PushFront(b)
		l.buckets[key] = e
	}
	b := e.Value.(*bucket)
	if b.lim.AllowN(now, 1) {
		b.refused = false
		return true, 0
	}
	if !b.refused {
		b.refused = true
		l.log.Warn("rate limit: refusing sign-in requests from a client until it slows down",
			"client", key.String(), "every", l.cfg.Every.String(), "burst", l.cfg.Burst)
	}
	missing := 1 - b.lim.TokensAt(now)
	return false, time.Duration(math.Ceil(missing * float64(l.cfg.Every)))
}

// forgetIdle drops the least recently used buckets that are full again.
func (l *limiter) forgetIdle(now time.Time) {
	for e := l.recent.Back(); e != nil; e = l.recent.Back() {
		if e.Value.(*bucket).lim.TokensAt(now) < float64(l.cfg.Burst) {
			return
		}
		l.drop(e)
	}
}

func (l *limiter) drop(e *list.Element) {
	delete(l.buckets, e.Value.(*bucket).key)
	l.recent.Remove(e)
}

// size returns the number of buckets kept.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// bucketKey is the address a bucket is kept for: the address itself, or
// its /64 for IPv6, since one host commonly holds a whole /64.
func bucketKey(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		p, err := a.Prefix(64)
		if err == nil {
			return p.Addr()
		}
	}
	return a
}

// clientAddr returns the address of the client of r: the peer, or, when
// the peer is a trusted proxy, the right-most X-Forwarded-For address that
// is not a trusted proxy. A malformed entry ends the walk at the last
// trusted hop. The zero Addr stands for a peer address that cannot be read.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	client := peer.Addr().Unmap()
	if !inAny(client, trusted) {
		return client
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			return client
		}
		client = a
		if !inAny(a, trusted) {
			return a
		}
	}
	return client
}

// parseHop parses one X-Forwarded-For entry: an address, possibly with a
// port, IPv6 possibly in brackets.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func inAny(a netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// limited wraps next with the rate limit; without one it returns next.
func (h *handler) limited(next http.HandlerFunc) http.HandlerFunc {
	if h.limiter == nil {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		ok, wait := h.limiter.allow(clientAddr(r, h.limiter.cfg.TrustedProxies))
		if ok {
			next(w, r)
			return
		}
		h.obs.RateLimited(r.URL.Path)
		secs := max(int64(math.Ceil(wait.Seconds())), 1)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		h.renderError(w, http.StatusTooManyRequests, "Too many sign-in attempts",
			fmt.Sprintf("Too many sign-in attempts came from your network. Please wait %d seconds and try again.", secs))
	}
}
