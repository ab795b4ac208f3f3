package ping

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/plugin"
)

// jwksServer publishes the public halves of its keys, or relays upstream's
// JWKS when that is set. It answers status instead when that is set, and
// holds requests while hold is set.
type jwksServer struct {
	srv      *httptest.Server
	upstream string
	mu       sync.Mutex
	keys     []jose.JSONWebKey
	status   int
	hold     chan struct{} // requests wait until it is closed
	fetches  atomic.Int32
	held     chan struct{} // a request is being held
	gaveUp   chan struct{} // the client of a held request gave up
}

func newJWKSServer(t *testing.T) *jwksServer {
	j := &jwksServer{held: make(chan struct{}, 16), gaveUp: make(chan struct{}, 16)}
	j.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.fetches.Add(1)
		j.mu.Lock()
		hold, status := j.hold, j.status
		j.mu.Unlock()
		if hold != nil {
			j.held <- struct{}{}
			select {
			case <-hold:
			case <-r.Context().Done():
				j.gaveUp <- struct{}{}
				return
			}
		}
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		if j.upstream != "" {
			resp, err := http.Get(j.upstream)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
			_, _ = io.Copy(w, resp.Body)
			return
		}
		j.mu.Lock()
		set := jose.JSONWebKeySet{}
		for _, k := range j.keys {
			set.Keys = append(set.Keys, k.Public())
		}
		j.mu.Unlock()
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(j.srv.Close)
	return j
}

func (j *jwksServer) add(k jose.JSONWebKey) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.keys = append(j.keys, k)
}

func (j *jwksServer) setStatus(status int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.status = status
}

// holdRequests makes later requests wait; the returned func lets them go.
func (j *jwksServer) holdRequests() (release func()) {
	ch := make(chan struct{})
	j.mu.Lock()
	j.hold = ch
	j.mu.Unlock()
	return func() {
		j.mu.Lock()
		j.hold = nil
		j.mu.Unlock()
		close(ch)
	}
}

// fakeTimer stands in for time.After in the key set's refresh loop: every
// arming is announced on armed, and fire ends the latest wait.
type fakeTimer struct {
	armed chan time.Duration
	mu    sync.Mutex
	last  chan time.Time
}

func newFakeTimer() *fakeTimer { return &fakeTimer{armed: make(chan time.Duration, 64)} }

func (f *fakeTimer) after(d time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	if d <= 0 {
		c <- time.Time{}
	}
	f.mu.Lock()
	f.last = c
	f.mu.Unlock()
	f.armed <- d
	return c
}

func (f *fakeTimer) fire() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case f.last <- time.Time{}:
	default:
	}
}

// next waits for the loop to arm its timer again, which it does after each
// fetch, and returns the wait it asked for.
func (f *fakeTimer) next(t *testing.T) time.Duration {
	t.Helper()
	return receive(t, f.armed, "the refresh loop to arm its timer")
}

// receive waits for a value on ch; the bound only turns a hang into a
// failure, nothing waits on it.
func receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(2 * time.Minute):
		t.Fatalf("no sign of %s", what)
		panic("unreachable")
	}
}

var (
	rsaOnce sync.Once
	rsaKeys []*rsa.PrivateKey
)

// testRSA returns one of three RSA keys generated once per test binary.
func testRSA(t *testing.T, i int) *rsa.PrivateKey {
	rsaOnce.Do(func() {
		for range 3 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys = append(rsaKeys, k)
		}
	})
	return rsaKeys[i]
}

func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign([]byte(`{"sub":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// newTestKeySet returns the key set of a new relying party; after is the
// refresh loop's timer (nil: time.After).
func newTestKeySet(t *testing.T, url string, secret []byte, now func() time.Time, after func(time.Duration) <-chan time.Time) *keySet {
	cfg := config.Default()
	cfg.AuthorizeURL, cfg.AccessTokenURL = "http://127.0.0.1:1/as/authorize", "http://127.0.0.1:1/as/token"
	cfg.ClientID, cfg.ClientSecret = testClientID, testSecret
	rp := newRP(t, Options{Config: &cfg, Now: now, after: after})
	return newKeySet(url, secret, rp)
}

func TestKeySetSelection(t *testing.T) {
	ctx := context.Background()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, tc := range []struct {
		name    string
		publish []jose.JSONWebKey
		token   func(t *testing.T) string
		secret  []byte
		want    error // nil: verifies
	}{
		{"kid-match", []jose.JSONWebKey{{Key: testRSA(t, 0), KeyID: "a"}, {Key: testRSA(t, 1), KeyID: "b"}},
			func(t *testing.T) string { return sign(t, jose.RS256, testRSA(t, 1), "b") }, nil, nil},
		{"kid-absent-single", []jose.JSONWebKey{{Key: testRSA(t, 0), KeyID: "a", Use: "sig"}},
			func(t *testing.T) string { return sign(t, jose.RS256, testRSA(t, 0), "") }, nil, nil},
		{"kid-absent-single-usable", []jose.JSONWebKey{{Key: testRSA(t, 0), KeyID: "a"}, {Key: testRSA(t, 1), KeyID: "enc", Use: "enc"}, {Key: ec, KeyID: "ec"}},
			func(t *testing.T) string { return sign(t, jose.RS256, testRSA(t, 0), "") }, nil, nil},
		{"kid-absent-multiple", []jose.JSONWebKey{{Key: testRSA(t, 0), KeyID: "a"}, {Key: testRSA(t, 1), KeyID: "b"}},
			func(t *testing.T) string { return sign(t, jose.RS256, testRSA(t, 0), "") }, nil, errKidAbsentMultiple},
		{"unknown-kid", []jose.JSONWebKey{{Key: testRSA(t, 0), KeyID: "a"}},
			func(t *testing.T) string { return sign(t, jose.RS256, testRSA(t, 2), "zzz") }, nil, errUnknownKid},
		{"wrong-key-same-kid", []jose.JSONWebKey{{Key: testRSA(t, 0), KeyID: "a"}},
			func(t *testing.T) string { return sign(t, jose.RS256, testRSA(t, 1), "a") }, nil, errSignature},
		{"alg-pinned-by-key", []jose.JSONWebKey{{Key: testRSA(t, 0), KeyID: "a", Algorithm: "RS256"}},
			func(t *testing.T) string { return sign(t, jose.PS256, testRSA(t, 0), "a") }, nil, errUnknownKid},
		{"ps256", []jose.JSONWebKey{{Key: testRSA(t, 0), KeyID: "a"}},
			func(t *testing.T) string { return sign(t, jose.PS256, testRSA(t, 0), "a") }, nil, nil},
		{"es256", []jose.JSONWebKey{{Key: ec, KeyID: "ec"}},
			func(t *testing.T) string { return sign(t, jose.ES256, ec, "ec") }, nil, nil},
		{"hs256-with-secret", nil,
			func(t *testing.T) string { return sign(t, jose.HS256, []byte(testSecret), "") }, []byte(testSecret), nil},
		{"hs256-without-secret", nil,
			func(t *testing.T) string { return sign(t, jose.HS256, []byte(testSecret), "") }, nil, errAlgNotAllowed},
		{"hs256-other-secret", nil,
			func(t *testing.T) string { return sign(t, jose.HS256, []byte(testSecret+"x"), "") }, []byte(testSecret), errSignature},
		{"hs256-short-secret", nil,
			func(t *testing.T) string { return sign(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), "") }, []byte("short"), errSignature},
		{"alg-none", []jose.JSONWebKey{{Key: testRSA(t, 0), KeyID: "a"}},
			func(t *testing.T) string { return "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0." }, []byte(testSecret), errAlgNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := newJWKSServer(t)
			for _, k := range tc.publish {
				j.add(k)
			}
			ks := newTestKeySet(t, j.srv.URL, tc.secret, nil, nil)
			payload, err := ks.VerifySignature(ctx, tc.token(t))
			if tc.want == nil {
				if err != nil || string(payload) != `{"sub":"x"}` {
					t.Fatalf("VerifySignature = %q, %v", payload, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("VerifySignature error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestKeySetRotationAndRateLimit(t *testing.T) {
	ctx := context.Background()
	f := newFetchedKeySet(t)
	ks, j, clk, timer := f.ks, f.jwks, f.clk, f.timer
	// A new key appears: one reload finds it.
	j.add(jose.JSONWebKey{Key: testRSA(t, 1), KeyID: "b"})
	if _, err := ks.VerifySignature(ctx, sign(t, jose.RS256, testRSA(t, 1), "b")); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if n := j.fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
	// Unknown kids cannot make the key set hammer the provider.
	for range 20 {
		_, err := ks.VerifySignature(ctx, sign(t, jose.RS256, testRSA(t, 2), "unknown"))
		if !errors.Is(err, errUnknownKid) {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if n := j.fetches.Load(); n != 2+refetchBurst-1 {
		t.Fatalf("fetches = %d after 20 unknown kids, want %d (the burst of %d, one spent on rotation)", n, 2+refetchBurst-1, refetchBurst)
	}
	// Once the limiter refills, an unknown kid refetches again, once.
	clk.Advance(refetchEvery)
	if _, err := ks.VerifySignature(ctx, sign(t, jose.RS256, testRSA(t, 2), "unknown")); !errors.Is(err, errUnknownKid) {
		t.Fatalf("unknown kid: %v", err)
	}
	if n := j.fetches.Load(); n != 2+refetchBurst {
		t.Fatalf("fetches = %d after the limiter refilled, want %d", n, 2+refetchBurst)
	}
	// The scheduled refresh drops retired keys.
	j.mu.Lock()
	j.keys = j.keys[1:]
	j.mu.Unlock()
	for range j.fetches.Load() - 1 {
		timer.next(t) // the loop arms its timer once after each fetch
	}
	clk.Advance(keysMaxAge)
	timer.fire()
	if d := timer.next(t); d != keysMaxAge {
		t.Fatalf("after the scheduled refresh the next waits %s, want %s", d, keysMaxAge)
	}
	if _, err := ks.VerifySignature(ctx, sign(t, jose.RS256, testRSA(t, 0), "a")); !errors.Is(err, errUnknownKid) {
		t.Fatalf("retired key still trusted: %v", err)
	}
}

func TestKeySetUnavailable(t *testing.T) {
	j := newJWKSServer(t)
	url := j.srv.URL
	j.srv.Close()
	ks := newTestKeySet(t, url, nil, nil, nil)
	_, err := ks.VerifySignature(context.Background(), sign(t, jose.RS256, testRSA(t, 0), "a"))
	if !errors.Is(err, errKeysUnavailable) || !strings.Contains(err.Error(), "JWKS endpoint "+url) {
		t.Fatalf("error %v, want errKeysUnavailable naming the JWKS endpoint", err)
	}
	if le := keysError(err); le.Kind != plugin.KindUnavailable || !strings.Contains(le.Message, "JWKS endpoint") {
		t.Fatalf("login error %s %q, want unavailable naming the JWKS endpoint", le.Kind, le.Message)
	}
}

func TestParseJWKSSkipsOddKeys(t *testing.T) {
	body := `{"keys":[{"kty":"unknown","kid":"x"},{"kty":"oct","k":"c2VjcmV0","kid":"sym"},` +
		mustJSON(t, jose.JSONWebKey{Key: testRSA(t, 0).Public(), KeyID: "good"}) + `]}`
	ks := newTestKeySet(t, "http://127.0.0.1:1/jwks", nil, nil, nil)
	keys, err := parseJWKS([]byte(body), ks.rp)
	if err != nil || len(keys) != 1 || keys[0].KeyID != "good" {
		t.Fatalf("parseJWKS = %v, %v", keys, err)
	}
	if _, err := parseJWKS([]byte("not json"), ks.rp); err == nil {
		t.Fatal("malformed JWKS accepted")
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
