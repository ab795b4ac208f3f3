package ping

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func testState(now time.Time) loginState {
	return loginState{ID: "id1", State: "st1", Nonce: "n1", Verifier: "v1", ReturnTo: "/r", RedirectURI: testRedirect, IssuedAt: now.Unix()}
}

func TestSeal(t *testing.T) {
	clk := newClock()
	s, err := newSealer(testSecret, testClientID, DefaultStateTTL, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.seal(testState(clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.open(sealed, testRedirect)
	if err != nil || got != testState(clk.Now()) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if strings.Contains(sealed, "st1") || strings.Contains(sealed, "/r") {
		t.Fatalf("sealed state leaks its content: %s", sealed)
	}
	again, _ := s.seal(testState(clk.Now()))
	if again == sealed {
		t.Fatal("two seals of the same state are equal (nonce reuse)")
	}

	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sealed, sealVersion))
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 0x80
		return sealVersion + base64.RawURLEncoding.EncodeToString(b)
	}
	other, _ := newSealer("another-secret", testClientID, DefaultStateTTL, clk.Now)
	otherClient, _ := newSealer(testSecret, "another-client", DefaultStateTTL, clk.Now)
	fromOther, _ := other.seal(testState(clk.Now()))
	fromOtherClient, _ := otherClient.seal(testState(clk.Now()))

	for _, tc := range []struct {
		name     string
		sealed   string
		redirect string
		want     error
	}{
		{"tampered-nonce", flip(0), testRedirect, errStateMalformed},
		{"tampered-ciphertext", flip(len(raw) / 2), testRedirect, errStateMalformed},
		{"tampered-tag", flip(len(raw) - 1), testRedirect, errStateMalformed},
		{"truncated", sealed[:len(sealed)-10], testRedirect, errStateMalformed},
		{"wrong-version", "v2." + strings.TrimPrefix(sealed, sealVersion), testRedirect, errStateMalformed},
		{"not-base64", sealVersion + "%%%", testRedirect, errStateMalformed},
		{"empty", "", testRedirect, errStateMalformed},
		{"wrong-key", fromOther, testRedirect, errStateMalformed},
		{"wrong-client", fromOtherClient, testRedirect, errStateMalformed},
		{"other-redirect", sealed, testRedirect + "x", errRedirectMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.open(tc.sealed, tc.redirect); !errors.Is(err, tc.want) {
				t.Fatalf("open = %v, want %v", err, tc.want)
			}
		})
	}

	t.Run("shared-secret-replica", func(t *testing.T) {
		replica, _ := newSealer(testSecret, testClientID, DefaultStateTTL, clk.Now)
		if _, err := replica.open(sealed, testRedirect); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("expiry", func(t *testing.T) {
		clk.Advance(DefaultStateTTL)
		if _, err := s.open(sealed, testRedirect); err != nil {
			t.Fatalf("at the TTL: %v", err)
		}
		clk.Advance(time.Second)
		if _, err := s.open(sealed, testRedirect); !errors.Is(err, errStateExpired) {
			t.Fatalf("past the TTL: %v", err)
		}
	})
	t.Run("issued-in-the-future", func(t *testing.T) {
		st := testState(clk.Now().Add(2 * ClockSkew))
		future, _ := s.seal(st)
		if _, err := s.open(future, testRedirect); !errors.Is(err, errStateMalformed) {
			t.Fatalf("open = %v", err)
		}
	})
}
