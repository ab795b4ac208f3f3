package rego

import (
	"context"
	"fmt"
	"testing"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/internal/config"
)

// benchDirectory is one company with n groups named "group-0000042".
func benchDirectory(n int) *sso.Directory {
	groups := make([]string, n)
	for i := range groups {
		groups[i] = fmt.Sprintf("group-%07d", i)
	}
	return &sso.Directory{
		Companies: map[string]sso.Company{"c1": {Name: "Company One", Groups: groups}},
		Whitelist: sso.Whitelist{
			Emails:  map[string]sso.WhitelistEntry{"alice@example.com": {Company: "c1"}},
			Domains: map[string]sso.WhitelistEntry{"example.com": {Company: "c1"}},
		},
	}
}

// benchInput is a new user with p Ping groups, half of them ClearML groups
// (spread over the directory), half unknown to ClearML.
func benchInput(p, n int) *sso.Input {
	groups := make([]string, p)
	for i := range groups {
		if i%2 == 0 {
			groups[i] = fmt.Sprintf("group-%07d", (i*7919)%n)
		} else {
			groups[i] = fmt.Sprintf("ping-only-%d", i)
		}
	}
	groups[len(groups)-1] = "ClearML-Admins"
	return &sso.Input{Identity: sso.Identity{
		Issuer: "https://auth.pingone.example/env/as", Subject: "s", UserID: "s",
		Email: "bob@example.com", Name: "Bob", Groups: groups,
	}}
}

// BenchmarkDecide measures one decision at (Ping groups x ClearML groups),
// with groups and role sync on, the directory set once.
func BenchmarkDecide(b *testing.B) {
	for _, caseSensitive := range []bool{true, false} {
		for _, size := range []struct{ ping, clearml int }{
			{10, 100}, {100, 1_000}, {100, 100_000}, {1_000, 100_000},
		} {
			name := fmt.Sprintf("%dx%d", size.ping, size.clearml)
			if !caseSensitive {
				name += "/case_insensitive"
			}
			b.Run(name, func(b *testing.B) {
				cfg := config.Default()
				cfg.DefaultCompany = "c1"
				cfg.Groups.Enabled = true
				cfg.Groups.CaseSensitive = caseSensitive
				cfg.Groups.Admins = []string{"ClearML-Admins"}
				cfg.Groups.ProhibitUserSignupIfNotInGroup = true
				ctx := context.Background()
				e, err := New(ctx, &cfg)
				if err != nil {
					b.Fatal(err)
				}
				if err := e.SetDirectory(ctx, benchDirectory(size.clearml)); err != nil {
					b.Fatal(err)
				}
				in := benchInput(size.ping, size.clearml)
				d, err := e.Decide(ctx, in)
				if err != nil || !d.Allow || *d.Role != sso.RoleAdmin || len(d.Groups) == 0 {
					b.Fatalf("unexpected decision %+v, %v", d, err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := e.Decide(ctx, in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSetDirectory measures building the indexes of a directory with
// one company of 100,000 groups and writing it to the store.
func BenchmarkSetDirectory(b *testing.B) {
	ctx := context.Background()
	cfg := config.Default()
	e, err := New(ctx, &cfg)
	if err != nil {
		b.Fatal(err)
	}
	dir := benchDirectory(100_000)
	b.ReportAllocs()
	for b.Loop() {
		if err := e.SetDirectory(ctx, dir); err != nil {
			b.Fatal(err)
		}
	}
}
