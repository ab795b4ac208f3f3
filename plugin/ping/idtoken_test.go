package ping

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/pingauthz/pingauthz/plugin"
)

// TestCheckIDToken covers the checks go-oidc leaves to the relying party,
// each on a token that is otherwise valid.
func TestCheckIDToken(t *testing.T) {
	clk := newClock()
	now := clk.Now()
	cfg := validConfig()
	rp := newRP(t, Options{Config: &cfg, Now: clk.Now})
	st := loginState{ID: "id", State: "st", Nonce: "the-nonce"}
	const accessToken = "opaque-access-token"
	sum := sha256.Sum256([]byte(accessToken))
	atHash := base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])

	valid := func() *oidc.IDToken {
		return &oidc.IDToken{
			Issuer: "https://auth.pingone.com/env/as", Audience: []string{testClientID}, Subject: "sub-1",
			Expiry: now.Add(time.Hour), IssuedAt: now, Nonce: st.Nonce,
		}
	}
	for _, tc := range []struct {
		name   string
		edit   func(*oidc.IDToken)
		claims map[string]any
		alg    string
		want   error // nil: accepted
	}{
		{name: "valid"},
		{name: "azp-of-the-client-with-several-audiences",
			edit:   func(t *oidc.IDToken) { t.Audience = append(t.Audience, "other-audience") },
			claims: map[string]any{"azp": testClientID}},
		{name: "several-audiences-without-azp",
			edit: func(t *oidc.IDToken) { t.Audience = append(t.Audience, "other-audience") },
			want: errAzp},
		{name: "several-audiences-azp-of-another-party",
			edit:   func(t *oidc.IDToken) { t.Audience = append(t.Audience, "other-audience") },
			claims: map[string]any{"azp": "other-audience"}, want: errAzp},
		{name: "one-audience-azp-of-another-party", claims: map[string]any{"azp": "other-audience"}, want: errAzp},
		{name: "at_hash-matches", edit: func(t *oidc.IDToken) { t.AccessTokenHash = atHash }},
		{name: "at_hash-differs", edit: func(t *oidc.IDToken) { t.AccessTokenHash = atHash[1:] + "A" }, want: errAtHash},
		{name: "at_hash-with-unknown-alg", edit: func(t *oidc.IDToken) { t.AccessTokenHash = atHash }, alg: "XX1", want: errAtHash},
		{name: "no-exp", edit: func(t *oidc.IDToken) { t.Expiry = time.Time{} }, want: errMissingExp},
		{name: "exp-within-skew", edit: func(t *oidc.IDToken) { t.Expiry = now.Add(-ClockSkew / 2) }},
		{name: "exp-beyond-skew", edit: func(t *oidc.IDToken) { t.Expiry = now.Add(-ClockSkew - time.Second) }, want: errExpired},
		{name: "no-iat", edit: func(t *oidc.IDToken) { t.IssuedAt = time.Time{} }, want: errMissingIat},
		{name: "iat-beyond-skew", edit: func(t *oidc.IDToken) { t.IssuedAt = now.Add(ClockSkew + time.Second) }, want: errIatFuture},
		{name: "nbf-within-skew", claims: map[string]any{"nbf": float64(now.Add(ClockSkew / 2).Unix())}},
		{name: "nbf-beyond-skew", claims: map[string]any{"nbf": float64(now.Add(ClockSkew + time.Minute).Unix())}, want: errNotYetValid},
		{name: "other-nonce", edit: func(t *oidc.IDToken) { t.Nonce = "another-nonce" }, want: errNonce},
		{name: "no-nonce", edit: func(t *oidc.IDToken) { t.Nonce = "" }, want: errNonce},
		{name: "no-sub", edit: func(t *oidc.IDToken) { t.Subject = "" }, want: errMissingSub},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idt := valid()
			if tc.edit != nil {
				tc.edit(idt)
			}
			alg := tc.alg
			if alg == "" {
				alg = "RS256"
			}
			claims := tc.claims
			if claims == nil {
				claims = map[string]any{}
			}
			err := rp.checkIDToken(idt, claims, st, alg, accessToken)
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
