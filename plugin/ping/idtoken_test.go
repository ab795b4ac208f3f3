package ping

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/plugin"
)

// TestCheckIDToken covers the claim checks, each on a token that is
// otherwise valid: claims are edited as decoded JSON, read, and checked.
func TestCheckIDToken(t *testing.T) {
	clk := newClock()
	now := clk.Now()
	cfg := validConfig()
	rp := newRP(t, Options{Config: &cfg, Now: clk.Now})
	const issuer = "https://auth.pingone.com/env/as"
	st := loginState{ID: "id", State: "st", Nonce: "the-nonce"}
	const accessToken = "opaque-access-token"
	sum := sha256.Sum256([]byte(accessToken))
	atHash := base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	unix := func(t time.Time) float64 { return float64(t.Unix()) }
	twoAudiences := []any{testClientID, "other-audience"}

	for _, tc := range []struct {
		name    string
		set     map[string]any // claims to set; a nil value deletes
		alg     string
		want    error // nil: accepted
		invalid bool  // readIDClaims refuses the claims
	}{
		{name: "valid"},
		{name: "other-issuer", set: map[string]any{"iss": "https://evil.example/as"}, want: errIssuerMismatch},
		{name: "no-issuer", set: map[string]any{"iss": nil}, want: errIssuerMismatch},
		{name: "aud-list-with-client", set: map[string]any{"aud": twoAudiences, "azp": testClientID}},
		{name: "aud-of-another-client", set: map[string]any{"aud": "other-client"}, want: errAudience},
		{name: "no-aud", set: map[string]any{"aud": nil}, want: errAudience},
		{name: "several-audiences-without-azp", set: map[string]any{"aud": twoAudiences}, want: errAzp},
		{name: "several-audiences-azp-of-another-party", set: map[string]any{"aud": twoAudiences, "azp": "other-audience"}, want: errAzp},
		{name: "one-audience-azp-of-another-party", set: map[string]any{"azp": "other-audience"}, want: errAzp},
		{name: "at_hash-matches", set: map[string]any{"at_hash": atHash}},
		{name: "at_hash-differs", set: map[string]any{"at_hash": atHash[1:] + "A"}, want: errAtHash},
		{name: "at_hash-with-unknown-alg", set: map[string]any{"at_hash": atHash}, alg: "XX1", want: errAtHash},
		{name: "no-exp", set: map[string]any{"exp": nil}, want: errMissingExp},
		{name: "exp-within-skew", set: map[string]any{"exp": unix(now.Add(-ClockSkew / 2))}},
		{name: "exp-beyond-skew", set: map[string]any{"exp": unix(now.Add(-ClockSkew - time.Second))}, want: errExpired},
		{name: "no-iat", set: map[string]any{"iat": nil}, want: errMissingIat},
		{name: "iat-beyond-skew", set: map[string]any{"iat": unix(now.Add(ClockSkew + time.Second))}, want: errIatFuture},
		{name: "nbf-within-skew", set: map[string]any{"nbf": unix(now.Add(ClockSkew / 2))}},
		{name: "nbf-beyond-skew", set: map[string]any{"nbf": unix(now.Add(ClockSkew + time.Minute))}, want: errNotYetValid},
		{name: "other-nonce", set: map[string]any{"nonce": "another-nonce"}, want: errNonce},
		{name: "no-nonce", set: map[string]any{"nonce": nil}, want: errNonce},
		{name: "no-sub", set: map[string]any{"sub": nil}, want: errMissingSub},
		{name: "exp-as-string", set: map[string]any{"exp": "tomorrow"}, invalid: true},
		{name: "sub-as-number", set: map[string]any{"sub": 7.0}, invalid: true},
		{name: "aud-with-a-number", set: map[string]any{"aud": []any{testClientID, 1.0}}, invalid: true},
		{name: "aud-as-object", set: map[string]any{"aud": map[string]any{}}, invalid: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claims := map[string]any{"iss": issuer, "aud": testClientID, "sub": "sub-1",
				"exp": unix(now.Add(time.Hour)), "iat": unix(now), "nonce": st.Nonce}
			for k, v := range tc.set {
				if v == nil {
					delete(claims, k)
				} else {
					claims[k] = v
				}
			}
			ic, err := readIDClaims(claims)
			if tc.invalid {
				if err == nil {
					t.Fatalf("readIDClaims accepted %v", claims)
				}
				return
			}
			if err != nil {
				t.Fatalf("readIDClaims: %v", err)
			}
			alg := tc.alg
			if alg == "" {
				alg = "RS256"
			}
			err = rp.checkIDToken(issuer, ic, st, alg, accessToken)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("checkIDToken = %v, want acceptance", err)
				}
				return
			}
			wantErr(t, nil, err, plugin.KindVerification, tc.want)
		})
	}
}
