package plugin

import (
	"context"
	"testing"

	"github.com/pingauthz/pingauthz/sso"
)

// BenchmarkDecideTransport measures the gRPC round trip of Decide alone: an
// in-process connection to a fake that answers at once.
func BenchmarkDecideTransport(b *testing.B) {
	role := "admin"
	a := connect(b, &fake{decision: &sso.Decision{
		Allow: true, Signup: true, Company: "c1", Role: &role, SyncGroups: true,
		Groups: []string{"ML Team"}, Reasons: []string{"signup:whitelist_domain", "role:admin_group", "groups:synced"},
	}})
	verified := true
	in := &sso.Input{Identity: sso.Identity{
		Issuer: "https://auth.pingone.com/env/as", Subject: "s1", UserID: "s1", Email: "alice@acme.com",
		EmailVerified: &verified, Name: "Alice", Groups: []string{"ML Team", "Admins"},
		Claims: map[string]any{"sub": "s1", "email": "alice@acme.com", "groups": []any{"ML Team", "Admins"}},
	}}
	ctx := context.Background()
	for b.Loop() {
		if _, err := a.Decide(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
