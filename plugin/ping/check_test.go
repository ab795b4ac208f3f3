package ping

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingemu"
)

func TestProbeClient(t *testing.T) {
	for _, tc := range []struct {
		name          string
		secret        string
		method        string // configured; the emulator's client uses basic
		authenticated bool
		code          string
	}{
		{"right secret", testSecret, "", true, "invalid_grant"},
		{"wrong secret", "wrong", "", false, "invalid_client"},
		{"wrong method", testSecret, AuthClientSecretPost, false, "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, envOpts{mutate: func(cfg *config.Config, _ *pingemu.Server) {
				cfg.ClientSecret, cfg.TokenEndpointAuthMethod = tc.secret, tc.method
			}})
			p, err := e.rp.ProbeClient(context.Background(), testRedirect)
			if err != nil {
				t.Fatal(err)
			}
			if p.Authenticated != tc.authenticated || p.ErrorCode != tc.code {
				t.Errorf("probe %+v", p)
			}
		})
	}
}

func TestProviderKeys(t *testing.T) {
	e := newTestEnv(t, envOpts{flavor: pingemu.PingFederate})
	if _, err := e.emu.RotateKey(); err != nil {
		t.Fatal(err)
	}
	u, keys, skipped, err := e.rp.ProviderKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u != e.emu.JWKSURL() || len(keys) != 2 || skipped != 0 {
		t.Fatalf("ProviderKeys = %s, %+v, %d", u, keys, skipped)
	}
	for _, k := range keys {
		if k.Type != "RSA" || !slices.Contains(e.emu.KeyIDs(), k.ID) || !slices.Contains(k.Verifies, "RS256") || slices.Contains(k.Verifies, "ES256") {
			t.Errorf("key %+v", k)
		}
	}
}

// CompleteForCheck keeps the claims of each source apart, and still
// returns them when the identity cannot be extracted.
func TestCompleteForCheck(t *testing.T) {
	e := newTestEnv(t, envOpts{faults: pingemu.Faults{ClaimsOnlyInUserinfo: true}})
	cb, sealed := e.begin(t, "alice", "/")
	done, err := e.rp.CompleteForCheck(context.Background(), testRedirect, sealed, cb.Query())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := done.IDTokenClaims["email"]; ok || done.UserinfoClaims["email"] != "alice@example.com" || done.Identity.Email != "alice@example.com" {
		t.Errorf("ID token %v, userinfo %v, identity %+v", done.IDTokenClaims, done.UserinfoClaims, done.Identity)
	}

	e = newTestEnv(t, envOpts{mutate: func(cfg *config.Config, _ *pingemu.Server) { cfg.Groups.FromDN = true }})
	cb, sealed = e.begin(t, "alice", "/")
	done, err = e.rp.CompleteForCheck(context.Background(), testRedirect, sealed, cb.Query())
	var ce *ClaimError
	if !errors.As(err, &ce) || done == nil || done.Identity != nil || done.IDTokenClaims["email"] != "alice@example.com" {
		t.Errorf("CompleteForCheck = %+v, %v", done, err)
	}
	if v, ok := ClaimValue(done.UserinfoClaims, "/groups/1"); !ok || v != "Admins" {
		t.Errorf("ClaimValue(/groups/1) = %v, %v", v, ok)
	}
}
