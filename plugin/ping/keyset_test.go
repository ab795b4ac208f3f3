package ping

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/pingauthz/pingauthz/internal/config"
)

// jwksServer publishes the public halves of its keys.
type jwksServer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetches atomic.Int32
}

func newJWKSServer(t *testing.T) *jwksServer {
	j := &jwksServer{}
	j.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.fetches.Add(1)
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

func newTestKeySet(t *testing.T, url string, secret []byte, now func() time.Time) *keySet {
	cfg := config.Default()
	cfg.AuthorizeURL, cfg.AccessTokenURL = "http://127.0.0.1:1/as/authorize", "http://127.0.0.1:1/as/token"
	cfg.ClientID, cfg.ClientSecret = testClientID, testSecret
	rp, err := New(context.Background(), Options{Config: &cfg, Now: now})
	if err != nil {
		t.Fatal(err)
	}
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
			ks := newTestKeySet(t, j.srv.URL, tc.secret, nil)
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
	clk := newClock()
	j := newJWKSServer(t)
	j.add(jose.JSONWebKey{Key: testRSA(t, 0), KeyID: "a"})
	ks := newTestKeySet(t, j.srv.URL, nil, clk.Now)
	if _, err := ks.VerifySignature(ctx, sign(t, jose.RS256, testRSA(t, 0), "a")); err != nil {
		t.Fatal(err)
	}
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
	if n := j.fetches.Load(); n > 2+refetchBurst {
		t.Fatalf("fetches = %d after 20 unknown kids, want at most %d", n, 2+refetchBurst)
	}
	// Cached keys are reloaded once they are old, dropping retired keys.
	j.mu.Lock()
	j.keys = j.keys[1:]
	j.mu.Unlock()
	clk.Advance(keysMaxAge + time.Second)
	if _, err := ks.VerifySignature(ctx, sign(t, jose.RS256, testRSA(t, 0), "a")); !errors.Is(err, errUnknownKid) {
		t.Fatalf("retired key still trusted: %v", err)
	}
}

func TestKeySetUnavailable(t *testing.T) {
	j := newJWKSServer(t)
	url := j.srv.URL
	j.srv.Close()
	ks := newTestKeySet(t, url, nil, nil)
	_, err := ks.VerifySignature(context.Background(), sign(t, jose.RS256, testRSA(t, 0), "a"))
	if !errors.Is(err, errKeysUnavailable) {
		t.Fatalf("error %v, want errKeysUnavailable", err)
	}
}

func TestParseJWKSSkipsOddKeys(t *testing.T) {
	body := `{"keys":[{"kty":"unknown","kid":"x"},{"kty":"oct","k":"c2VjcmV0","kid":"sym"},` +
		mustJSON(t, jose.JSONWebKey{Key: testRSA(t, 0).Public(), KeyID: "good"}) + `]}`
	ks := newTestKeySet(t, "http://127.0.0.1:1/jwks", nil, nil)
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
