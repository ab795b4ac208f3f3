package provider

import (
	"context"
	"testing"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/internal/config"
)

// BenchmarkDecide measures a decision in process, without the RPC.
func BenchmarkDecide(b *testing.B) {
	cfg := config.Default()
	cfg.AuthorizeURL, cfg.AccessTokenURL = "http://127.0.0.1:1/env/as/authorize", "http://127.0.0.1:1/env/as/token"
	cfg.ClientID, cfg.ClientSecret = clientID, clientSecret
	cfg.Groups.Enabled, cfg.Groups.Admins = true, []string{"Admins"}
	p, err := New(context.Background(), &cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	ctx := context.Background()
	if err := p.SetDirectory(ctx, directory()); err != nil {
		b.Fatal(err)
	}
	verified := true
	in := &sso.Input{Identity: sso.Identity{
		Issuer: "http://127.0.0.1:1/env/as", Subject: "s1", UserID: "s1", Email: "alice@acme.com",
		EmailVerified: &verified, Name: "Alice", Groups: []string{"ML Team", "Admins"},
		Claims: map[string]any{"sub": "s1", "email": "alice@acme.com", "groups": []any{"ML Team", "Admins"}},
	}}
	for b.Loop() {
		if _, err := p.Decide(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
