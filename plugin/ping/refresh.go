package ping

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/pingauthz/pingauthz/plugin"
)

const (
	// keysMaxAge is how long a fetched JWKS is used before the background
	// refresh reloads it, so unpublished keys stop being trusted.
	keysMaxAge = time.Hour
	// refetchEvery and refetchBurst limit reloads caused by unknown kids.
	refetchEvery = 10 * time.Second
	refetchBurst = 2
	// refreshBackoffMin is the wait after a failed fetch; it doubles with
	// each further failure up to refreshBackoffMax. Without cached keys a
	// login retries once refreshBackoffMin has passed.
	refreshBackoffMin = 5 * time.Second
	refreshBackoffMax = 5 * time.Minute
)

// errKeysUnavailable wraps a JWKS that could not be fetched; retrying later
// may succeed.
var errKeysUnavailable = errors.New("JWKS cannot be fetched")

// errClosed is the fetch error once the relying party is closed.
var errClosed = fmt.Errorf("%w: the relying party is closed", errKeysUnavailable)

// fetch is one JWKS fetch that logins may wait for.
type fetch struct {
	why  string
	done chan struct{}
	err  error // set before done is closed
}

func newFetch(why string) *fetch { return &fetch{why: why, done: make(chan struct{})} }

func failedFetch(err error) *fetch {
	f := newFetch("")
	f.err = err
	close(f.done)
	return f
}

// cached returns the cached keys and whether a fetch ever succeeded. When
// the scheduled refresh is overdue (a timer delayed by a suspended host, say)
// it nudges the loop, without waiting.
func (k *keySet) cached(now time.Time) ([]jose.JSONWebKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys != nil && k.pending == nil && !k.next.IsZero() && now.After(k.next.Add(refetchEvery)) {
		k.nudge()
	}
	return k.keys, k.keys != nil
}

// request returns the fetch a login waits for: the pending one, else a new
// one. An unknown kid's fetch is rate-limited (nil when refused); without
// cached keys, a failure less than refreshBackoffMin ago is returned as is.
func (k *keySet) request(now time.Time, why string) *fetch {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.pending != nil:
		return k.pending
	case k.closed:
		return failedFetch(errClosed)
	case k.keys == nil && k.lastErr != nil && now.Sub(k.lastTry) < refreshBackoffMin && !now.Before(k.lastTry):
		return failedFetch(k.lastErr)
	case k.keys != nil && !k.limiter.AllowN(now, 1):
		return nil
	}
	k.pending = newFetch(why)
	k.nudge()
	return k.pending
}

// nudge wakes the loop; callers hold mu.
func (k *keySet) nudge() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// await waits for f, at most ExchangeTimeout or until the login's context
// ends; either error names the JWKS endpoint.
func (k *keySet) await(ctx context.Context, f *fetch) error {
	select {
	case <-f.done:
		return f.err
	default:
	}
	ctx, cancel := k.rp.withTimeout(ctx)
	defer cancel()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%w: the JWKS endpoint %s did not answer in time: %w", errKeysUnavailable, k.url, ctx.Err())
		}
		return fmt.Errorf("%w: the login ended while waiting for the JWKS endpoint %s: %w", errKeysUnavailable, k.url, ctx.Err())
	}
}

// loop runs the fetches until the relying party is closed: a pending one at
// once, the scheduled one when its timer fires. It arms the timer exactly
// once after each fetch; a wake-up re-checks without re-arming.
func (k *keySet) loop(stop <-chan struct{}) {
	defer k.shutdown()
	var (
		due      <-chan time.Time
		armedFor time.Time
	)
	for {
		select {
		case <-stop:
			return
		default:
		}
		k.mu.Lock()
		f, next := k.pending, k.next
		k.mu.Unlock()
		if !next.Equal(armedFor) {
			due, armedFor = k.rp.after(next.Sub(k.rp.now())), next
		}
		if f == nil {
			select {
			case <-stop:
				return
			case <-k.wake: // a login's fetch, or a nudge about an overdue refresh
			case <-due:
				due, armedFor = nil, time.Time{}
			}
			if f = k.scheduled(); f == nil {
				continue
			}
		}
		k.run(f)
		armedFor = time.Time{}
	}
}

// scheduled returns the pending fetch, else makes the scheduled refresh
// pending when it is due.
func (k *keySet) scheduled() *fetch {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.pending == nil && !k.next.IsZero() && !k.rp.now().Before(k.next) {
		k.pending = newFetch("scheduled")
	}
	return k.pending
}

// shutdown fails the pending fetch and any later request.
func (k *keySet) shutdown() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	if f := k.pending; f != nil {
		f.err = errClosed
		close(f.done)
		k.pending = nil
	}
}

// run fetches the JWKS for f without holding mu, then records the outcome:
// new keys and the next refresh in keysMaxAge, or the cached keys kept and
// the next try after the backoff. It logs before it lets f's waiters go, so
// a finished login's log holds its fetch.
func (k *keySet) run(f *fetch) {
	start := time.Now()
	keys, err := k.fetch()
	now := k.rp.now()
	k.mu.Lock()
	k.lastTry = now
	if err != nil {
		k.failures++
		k.lastErr = err
		k.next = now.Add(backoff(k.failures))
	} else {
		k.keys, k.failures, k.lastErr = keys, 0, nil
		k.next = now.Add(keysMaxAge)
	}
	next, cached := k.next, len(k.keys)
	f.err = err
	k.pending = nil
	k.mu.Unlock()
	defer close(f.done)
	if err != nil {
		k.rp.log.Warn("ping: JWKS fetch failed; the cached keys stay in use", "url", k.url, "reason", f.why,
			"error", err, "cached_keys", cached, "next_try", next.UTC().Format(time.RFC3339))
		return
	}
	kids := make([]string, len(keys))
	for i, key := range keys {
		kids[i] = key.KeyID
	}
	k.rp.step("jwks", start, "reason", f.why, "url", k.url, "kids", kids)
}

// backoff is the wait after the n-th consecutive failure.
func backoff(n int) time.Duration {
	d := refreshBackoffMin
	for i := 1; i < n && d < refreshBackoffMax; i++ {
		d *= 2
	}
	return min(d, refreshBackoffMax)
}

// fetch reads and parses the JWKS within ExchangeTimeout; the relying
// party's Close cancels it.
func (k *keySet) fetch() ([]jose.JSONWebKey, error) {
	ctx, cancel := k.rp.withTimeout(k.rp.bg)
	defer cancel()
	body, status, _, err := k.rp.get(ctx, epJWKS, k.url, "")
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("status %d", status)
	}
	var keys []jose.JSONWebKey
	if err == nil {
		keys, err = parseJWKS(body, k.rp)
	}
	if err != nil {
		if k.rp.bg.Err() != nil {
			return nil, errClosed
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("did not answer in time: %w", err)
		}
		return nil, fmt.Errorf("%w: the JWKS endpoint %s: %w", errKeysUnavailable, k.url, err)
	}
	return keys, nil
}

// keysError is the login error for a JWKS that could not be fetched.
func keysError(err error) *Error {
	if re := redirectError(err); re != nil {
		return re
	}
	if errors.Is(err, errClosed) {
		return newError(plugin.KindUnavailable, "the Ping login is shutting down; try again in a moment", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return newError(plugin.KindUnavailable, "the identity provider's JWKS endpoint (its signing keys) did not answer in time; try again later", err)
	}
	return newError(plugin.KindUnavailable, "the identity provider's JWKS endpoint (its signing keys) could not be read; try again later", err)
}

// parseJWKS reads a JWK Set, skipping keys go-jose cannot read and
// non-public keys, so one odd key does not hide the others.
func parseJWKS(body []byte, rp *RelyingParty) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("malformed JWKS: %v", err)
	}
	keys := make([]jose.JSONWebKey, 0, len(set.Keys))
	for i, raw := range set.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(raw); err != nil {
			rp.log.Debug("ping: JWKS key skipped", "index", i, "error", err)
			continue
		}
		if !key.Valid() || !key.IsPublic() {
			continue
		}
		keys = append(keys, key)
	}
	return keys, nil
}
