package pingemu

import (
	"context"
	"net/http"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// The emulator works with the common Go relying-party libraries: discovery,
// x/oauth2's auth-style auto-detection (which retries with the same code),
// ID token verification and userinfo.
func TestGoOIDCCompat(t *testing.T) {
	tests := []struct {
		name   string
		flavor Flavor
		client string
		faults Faults
		verify bool
	}{
		{"pingone basic", PingOne, "basic-app", Faults{}, true},
		{"pingone post (auto-detect retry)", PingOne, "post-app", Faults{}, true},
		{"pingfederate aud array", PingFederate, "post-app", Faults{AudArrayWithAzp: true}, true},
		{"bad signature", PingFederate, "basic-app", Faults{BadSignature: true}, false},
		{"wrong issuer", PingOne, "basic-app", Faults{WrongIssuer: true}, false},
		{"expired", PingOne, "basic-app", Faults{Expired: true}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, Options{Flavor: tc.flavor, Faults: tc.faults})
			ctx := oidc.ClientContext(t.Context(), http.DefaultClient)
			provider, err := oidc.NewProvider(ctx, s.Issuer())
			if err != nil {
				t.Fatal(err)
			}
			cfg := oauth2.Config{ClientID: tc.client, ClientSecret: testSecret, Endpoint: provider.Endpoint(),
				RedirectURL: testRedirect, Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
			verifier := oauth2.GenerateVerifier()
			authURL := cfg.AuthCodeURL("st", oidc.Nonce("nn"), oauth2.S256ChallengeOption(verifier))
			target, err := Login(context.Background(), nil, authURL, "alice", "alice-pw")
			if err != nil {
				t.Fatal(err)
			}
			tok, err := cfg.Exchange(ctx, target.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := provider.Verifier(&oidc.Config{ClientID: tc.client, Now: s.now}).Verify(ctx, raw)
			if (err == nil) != tc.verify {
				t.Fatalf("Verify error = %v, want success=%v", err, tc.verify)
			}
			if err != nil {
				return
			}
			if idt.Nonce != "nn" || idt.Subject != DefaultSubject("alice") {
				t.Errorf("nonce %q sub %q", idt.Nonce, idt.Subject)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatal(err)
			}
			if ui.Subject != idt.Subject || ui.Email != "alice@example.com" {
				t.Errorf("userinfo %+v", ui)
			}
		})
	}
}
