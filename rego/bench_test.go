package rego

import (
	"context"
	"fmt"
	"slices"
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

// benchConfig has groups, role sync and the sign-up restriction on, and a
// default company.
func benchConfig(caseSensitive bool) config.Config {
	cfg := config.Default()
	cfg.DefaultCompany = "c1"
	cfg.Groups.Enabled = true
	cfg.Groups.CaseSensitive = caseSensitive
	cfg.Groups.Admins = []string{"ClearML-Admins"}
	cfg.Groups.ProhibitUserSignupIfNotInGroup = true
	return cfg
}

// benchDecide sets a directory of n groups, checks that in gets an admin
// allow that ok accepts, then measures Decide.
func benchDecide(b *testing.B, e *Engine, n int, in *sso.Input, ok func(*sso.Decision) bool) {
	ctx := context.Background()
	if err := e.SetDirectory(ctx, benchDirectory(n)); err != nil {
		b.Fatal(err)
	}
	d, err := e.Decide(ctx, in)
	if err != nil || !d.Allow || *d.Role != sso.RoleAdmin || !ok(d) {
		b.Fatalf("unexpected decision %+v, %v", d, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Decide(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
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
				cfg := benchConfig(caseSensitive)
				e, err := New(context.Background(), &cfg)
				if err != nil {
					b.Fatal(err)
				}
				benchDecide(b, e, size.clearml, benchInput(size.ping, size.clearml), func(d *sso.Decision) bool {
					return len(d.Groups) > 0
				})
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

// benchExtension is an extension of every common kind: a role rule on a
// Ping group, a sign-up denial by email domain, and groups by prefix.
const benchExtension = `package clearml.sso.extend

import data.clearml.email

admin contains "role:team_lead" if "Team Leads" in input.identity.groups

not_admin contains "role:contractor" if "Contractors" in input.identity.groups

deny_signup contains {"code": "deny:contractor", "message": "No sign-ups from contractor.example."} if {
	email.domain(input.identity.email) == "contractor.example"
}

groups contains name if {
	some group in input.identity.groups
	startswith(group, "clearml-")
	name := substring(group, 8, -1)
}
`

// BenchmarkDecideExtension is BenchmarkDecide at 10x100 with an extension
// module; BenchmarkDecide itself has none.
func BenchmarkDecideExtension(b *testing.B) {
	cfg := benchConfig(true)
	mods, err := EffectiveModules(&cfg)
	if err != nil {
		b.Fatal(err)
	}
	mods = append(mods, Module{Path: "extend.rego", File: "extend.rego", Origin: OriginOverride, Source: []byte(benchExtension)})
	e, err := New(context.Background(), &cfg, WithModules(mods))
	if err != nil {
		b.Fatal(err)
	}
	in := benchInput(10, 100)
	in.Identity.Groups = append(in.Identity.Groups, "clearml-group-0000001")
	benchDecide(b, e, 100, in, func(d *sso.Decision) bool { return slices.Contains(d.Groups, "group-0000001") })
}
