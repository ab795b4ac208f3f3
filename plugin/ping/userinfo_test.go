package ping

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/pingauthz/pingauthz/plugin"
)

// signClaims returns claims as a compact RS256 JWS with the given kid.
func signClaims(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUserinfoResponses checks how userinfo answers are read: plain JSON,
// signed JWTs (signature, iss and aud), statuses and malformed bodies.
func TestUserinfoResponses(t *testing.T) {
	const issuer, sub = "https://auth.pingone.com/env/as", "sub-1"
	j := newJWKSServer(t)
	j.add(jose.JSONWebKey{Key: testRSA(t, 0), KeyID: "k1"})
	good := map[string]any{"sub": sub, "email": "a@example.com", "iss": issuer, "aud": testClientID}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range good {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name, ctype, body string
		status            int
		kind              plugin.ErrorKind // checked when cause is set
		cause             error            // nil: accepted
	}{
		{name: "json", ctype: "application/json", body: `{"sub":"sub-1","email":"a@example.com"}`},
		{name: "signed", ctype: "application/jwt", body: signClaims(t, testRSA(t, 0), "k1", good)},
		{name: "signed-charset", ctype: "application/jwt; charset=UTF-8", body: signClaims(t, testRSA(t, 0), "k1", good)},
		{name: "signed-aud-list", ctype: "application/jwt", body: signClaims(t, testRSA(t, 0), "k1", with("aud", []string{"x", testClientID}))},
		{name: "signed-without-iss-and-aud", ctype: "application/jwt", body: signClaims(t, testRSA(t, 0), "k1", map[string]any{"sub": sub, "email": "a@example.com"})},
		{name: "signed-by-another-key", ctype: "application/jwt", body: signClaims(t, testRSA(t, 1), "k1", good),
			kind: plugin.KindVerification, cause: errSignature},
		{name: "signed-unknown-kid", ctype: "application/jwt", body: signClaims(t, testRSA(t, 1), "k9", good),
			kind: plugin.KindVerification, cause: errUnknownKid},
		{name: "signed-alg-none", ctype: "application/jwt", body: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzdWItMSJ9.",
			kind: plugin.KindVerification, cause: errAlgNone},
		{name: "signed-other-issuer", ctype: "application/jwt", body: signClaims(t, testRSA(t, 0), "k1", with("iss", "https://evil.example/as")),
			kind: plugin.KindVerification, cause: errIssuerMismatch},
		{name: "signed-other-audience", ctype: "application/jwt", body: signClaims(t, testRSA(t, 0), "k1", with("aud", "other-client")),
			kind: plugin.KindVerification, cause: errAudience},
		{name: "signed-other-sub", ctype: "application/jwt", body: signClaims(t, testRSA(t, 0), "k1", with("sub", "sub-2")),
			kind: plugin.KindVerification, cause: errUserinfoSub},
		{name: "json-without-sub", ctype: "application/json", body: `{"email":"a@example.com"}`,
			kind: plugin.KindVerification, cause: errUserinfoSub},
		{name: "malformed-json", ctype: "application/json", body: `{"sub":`,
			kind: plugin.KindVerification, cause: errUserinfoBody},
		{name: "refused", status: http.StatusUnauthorized, ctype: "application/json", body: `{"error":"invalid_token"}`,
			kind: plugin.KindVerification, cause: errUserinfoStatus},
		{name: "provider-failure", status: http.StatusServiceUnavailable, ctype: "text/plain", body: "down",
			kind: plugin.KindUnavailable, cause: errUserinfoStatus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer the-access-token" {
					http.Error(w, "no bearer", http.StatusBadRequest)
					return
				}
				w.Header().Set("Content-Type", tc.ctype)
				if tc.status != 0 {
					w.WriteHeader(tc.status)
				}
				_, _ = w.Write([]byte(tc.body))
			}))
			t.Cleanup(srv.Close)
			cfg := validConfig()
			rp := newRP(t, Options{Config: &cfg})
			p := &provider{meta: Metadata{Issuer: issuer, UserinfoURL: srv.URL}, keys: newKeySet(j.srv.URL, nil, rp)}
			claims, err := rp.userinfo(context.Background(), p, "the-access-token", sub)
			if tc.cause != nil {
				if claims != nil {
					t.Errorf("claims %v returned with the error", claims)
				}
				wantErr(t, nil, err, tc.kind, tc.cause)
				return
			}
			if err != nil {
				t.Fatalf("userinfo = %v", err)
			}
			if claims["sub"] != sub || claims["email"] != "a@example.com" {
				t.Errorf("claims %v", claims)
			}
		})
	}
}
