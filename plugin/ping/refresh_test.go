package ping

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/plugin"
)

// fetchedKeySet is a key set on a fake clock and timer whose first fetch
// found kid "a"; its refresh loop has armed the timer for keysMaxAge.
type fetchedKeySet struct {
	ks     *keySet
	jwks   *jwksServer
	clk    *testutil.Clock
	timer  *fakeTimer
	tokenA string // signed with kid "a"
}

func newFetchedKeySet(t *testing.T) *fetchedKeySet {
	t.Helper()
	f := &fetchedKeySet{clk: newClock(), timer: newFakeTimer(), jwks: newJWKSServer(t), tokenA: sign(t, jose.RS256, testRSA(t, 0), "a")}
	f.jwks.add(jose.JSONWebKey{Key: testRSA(t, 0), KeyID: "a"})
	f.ks = newTestKeySet(t, f.jwks.srv.URL, nil, f.clk.Now, f.timer.after)
	if _, err := f.ks.VerifySignature(context.Background(), f.tokenA); err != nil {
		t.Fatal(err)
	}
	if d := f.timer.next(t); d != keysMaxAge {
		t.Fatalf("after the first fetch the refresh waits %s, want %s", d, keysMaxAge)
	}
	return f
}

// verifyAsync runs VerifySignature in a goroutine and returns its error.
func verifyAsync(ctx context.Context, ks *keySet, token string) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := ks.VerifySignature(ctx, token)
		done <- err
	}()
	return done
}

// TestLoginWhileJWKSRefreshHangs runs a whole login while the scheduled JWKS
// refresh hangs: the login's kid is cached, so it neither waits nor fails.
func TestLoginWhileJWKSRefreshHangs(t *testing.T) {
	clk := newClock()
	timer := newFakeTimer()
	jwks := newJWKSServer(t)
	e := newTestEnv(t, envOpts{emuNow: clk.Now, rpNow: clk.Now, after: timer.after,
		mutate: func(c *config.Config, emu *pingemu.Server) {
			jwks.upstream = emu.JWKSURL()
			c.JWKSURL = jwks.srv.URL
		}})
	if _, _, err := e.login(t, "alice"); err != nil {
		t.Fatal(err)
	}
	if d := timer.next(t); d != keysMaxAge {
		t.Fatalf("the refresh waits %s, want %s", d, keysMaxAge)
	}
	release := jwks.holdRequests()
	clk.Advance(keysMaxAge)
	timer.fire()
	receive(t, jwks.held, "the scheduled JWKS fetch")
	id, _, err := e.login(t, "alice")
	if err != nil || id == nil {
		t.Fatalf("login during a hung refresh: %v", err)
	}
	if n := jwks.fetches.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (the first and the hung refresh)", n)
	}
	// The hung fetch was still waiting: released now, it succeeds.
	release()
	if d := timer.next(t); d != keysMaxAge {
		t.Fatalf("after the released refresh the next waits %s, want %s (a failed fetch backs off)", d, keysMaxAge)
	}
}

// TestUnknownKidDoesNotBlockCachedKids: a login with an unknown kid waits
// for its refetch; logins with cached kids go on meanwhile.
func TestUnknownKidDoesNotBlockCachedKids(t *testing.T) {
	ctx := context.Background()
	f := newFetchedKeySet(t)
	ks, j, timer, tokenA := f.ks, f.jwks, f.timer, f.tokenA

	release := j.holdRequests()
	unknown := verifyAsync(ctx, ks, sign(t, jose.RS256, testRSA(t, 1), "b"))
	receive(t, j.held, "the refetch for kid b")
	for range 3 {
		if _, err := ks.VerifySignature(ctx, tokenA); err != nil {
			t.Fatalf("cached kid during the refetch: %v", err)
		}
	}
	j.add(jose.JSONWebKey{Key: testRSA(t, 1), KeyID: "b"})
	release()
	if err := receive(t, unknown, "the unknown kid's verification"); err != nil {
		t.Fatalf("kid b after the refetch: %v", err)
	}
	if n := j.fetches.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2", n)
	}

	// A login that ends while its refetch hangs gets an error naming the
	// JWKS endpoint, not the next step's.
	timer.next(t)
	release = j.holdRequests()
	defer release()
	lctx, cancel := context.WithTimeout(ctx, time.Hour)
	unknown = verifyAsync(lctx, ks, sign(t, jose.RS256, testRSA(t, 2), "c"))
	receive(t, j.held, "the refetch for kid c")
	cancel()
	err := receive(t, unknown, "the canceled verification")
	if !errors.Is(err, errKeysUnavailable) || !strings.Contains(err.Error(), "JWKS endpoint "+j.srv.URL) {
		t.Fatalf("error %v, want errKeysUnavailable naming the JWKS endpoint", err)
	}
	if le := keysError(err); le.Kind != plugin.KindUnavailable || !strings.Contains(le.Message, "JWKS endpoint") {
		t.Fatalf("login error %s %q", le.Kind, le.Message)
	}
}

// TestKeySetRefreshBackoff: a failing scheduled refresh retries after
// doubling waits, up to refreshBackoffMax, while the cached keys serve.
func TestKeySetRefreshBackoff(t *testing.T) {
	ctx := context.Background()
	f := newFetchedKeySet(t)
	ks, j, clk, timer, tokenA := f.ks, f.jwks, f.clk, f.timer, f.tokenA
	wait := keysMaxAge
	j.setStatus(http.StatusServiceUnavailable)
	for i, want := range []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second,
		80 * time.Second, 160 * time.Second, refreshBackoffMax, refreshBackoffMax} {
		clk.Advance(wait)
		timer.fire()
		if wait = timer.next(t); wait != want {
			t.Fatalf("after failure %d the refresh waits %s, want %s", i+1, wait, want)
		}
		if n := j.fetches.Load(); n != int32(i+2) {
			t.Fatalf("after failure %d: %d fetches, want %d", i+1, n, i+2)
		}
		if _, err := ks.VerifySignature(ctx, tokenA); err != nil {
			t.Fatalf("cached key refused after failure %d: %v", i+1, err)
		}
	}
	j.setStatus(0)
	clk.Advance(wait)
	timer.fire()
	if wait = timer.next(t); wait != keysMaxAge {
		t.Fatalf("after a success the refresh waits %s, want %s", wait, keysMaxAge)
	}
}

// TestKeySetFirstFetchFails: without cached keys a login waits for the
// fetch; after a failure, logins within refreshBackoffMin fail at once.
func TestKeySetFirstFetchFails(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	j := newJWKSServer(t)
	j.add(jose.JSONWebKey{Key: testRSA(t, 0), KeyID: "a"})
	j.setStatus(http.StatusBadGateway)
	ks := newTestKeySet(t, j.srv.URL, nil, clk.Now, nil)
	tokenA := sign(t, jose.RS256, testRSA(t, 0), "a")
	for range 2 {
		_, err := ks.VerifySignature(ctx, tokenA)
		if !errors.Is(err, errKeysUnavailable) || !strings.Contains(err.Error(), "status 502") {
			t.Fatalf("error %v, want the JWKS endpoint's 502", err)
		}
	}
	if n := j.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches within the backoff, want 1", n)
	}
	j.setStatus(0)
	clk.Advance(refreshBackoffMin)
	if _, err := ks.VerifySignature(ctx, tokenA); err != nil {
		t.Fatalf("after the backoff: %v", err)
	}
}

// TestCloseStopsRefresh: Close cancels a hung fetch, fails its waiters and
// returns once the refresh goroutine has ended; later fetches fail at once.
func TestCloseStopsRefresh(t *testing.T) {
	ctx := context.Background()
	f := newFetchedKeySet(t)
	ks, j, clk := f.ks, f.jwks, f.clk
	release := j.holdRequests()
	defer release()
	waiter := verifyAsync(ctx, ks, sign(t, jose.RS256, testRSA(t, 1), "b"))
	receive(t, j.held, "the refetch for kid b")

	closed := make(chan error, 1)
	go func() { closed <- ks.rp.Close() }()
	if err := receive(t, closed, "Close to return"); err != nil {
		t.Fatal(err)
	}
	receive(t, j.gaveUp, "the hung fetch canceled")
	if err := receive(t, waiter, "the waiting verification"); !errors.Is(err, errClosed) {
		t.Fatalf("waiter error %v, want errClosed", err)
	}
	clk.Advance(refetchEvery)
	_, err := ks.VerifySignature(ctx, sign(t, jose.RS256, testRSA(t, 2), "c"))
	if !errors.Is(err, errClosed) || keysError(err).Kind != plugin.KindUnavailable {
		t.Fatalf("verification after Close: %v, want errClosed", err)
	}
	if n := j.fetches.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2", n)
	}
	if err := ks.rp.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestOverdueRefreshNudged: when the refresh timer is late (a suspended
// host), the first login after the due time starts the refresh, without
// waiting for it.
func TestOverdueRefreshNudged(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	j := newJWKSServer(t)
	j.add(jose.JSONWebKey{Key: testRSA(t, 0), KeyID: "a"})
	ks := newTestKeySet(t, j.srv.URL, nil, clk.Now, func(time.Duration) <-chan time.Time { return nil }) // never fires
	tokenA := sign(t, jose.RS256, testRSA(t, 0), "a")
	if _, err := ks.VerifySignature(ctx, tokenA); err != nil {
		t.Fatal(err)
	}
	release := j.holdRequests()
	defer release()
	clk.Advance(keysMaxAge + refetchEvery + time.Second)
	if _, err := ks.VerifySignature(ctx, tokenA); err != nil {
		t.Fatalf("overdue refresh: %v", err)
	}
	receive(t, j.held, "the refresh the login started")
}
