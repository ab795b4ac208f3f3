package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/sso"
)

func TestParseEntry(t *testing.T) {
	tests := []struct {
		entry, email, domain, err string
	}{
		{"User@Example.COM", "user@example.com", "", ""},
		{"  a.b+c@x.com ", "a.b+c@x.com", "", ""},
		{"@Example.com", "", "example.com", ""},
		{"@localhost", "", "localhost", ""},
		{"Kate@Bücher.Example", "kate@xn--bcher-kva.example", "", ""},
		// Only ASCII letters are folded, as the relying party folds them.
		{"kate@BÜCHER.example", "", "", "no A-label"},
		{"@Bücher.Example", "", "xn--bcher-kva.example", ""},
		{"@xn--bcher-kva.example", "", "xn--bcher-kva.example", ""},
		{"", "", "", "it is empty"},
		{"example.com", "", "", `no "@"`},
		{"a@b@c.com", "", "", `more than one "@"`},
		{"attacker@evil.com@example.com", "", "", `more than one "@"`},
		{"a@", "", "", "domain is not valid"},
		{"@", "", "", "domain \"\" is not valid"},
		{"a@.x.com", "", "", "domain is not valid"},
		{"a@x..com", "", "", "domain is not valid"},
		{"a b@x.com", "", "", "white space"},
		// Go's and Rego's lower-casing fold these to "i" and "k"; the
		// relying party's rule does not, and never whitelists them.
		{"admİn@example.com", "", "", "not ASCII"},
		{"\u212Aate@example.com", "", "", "not ASCII"},
		{"Ada <ada@example.com>", "", "", "display name"},
	}
	for _, tt := range tests {
		t.Run(tt.entry, func(t *testing.T) {
			email, domain, err := parseEntry(tt.entry)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "store: ") {
					t.Fatalf("error = %v, want a store: error containing %q", err, tt.err)
				}
				return
			}
			must(t, err)
			if email != tt.email || domain != tt.domain {
				t.Errorf("= (%q, %q), want (%q, %q)", email, domain, tt.email, tt.domain)
			}
		})
	}
}

func TestWhitelist(t *testing.T) { eachEngine(t, testWhitelist) }

func testWhitelist(t *testing.T, e *testEngine) {
	ctx := context.Background()
	s := e.open(t)
	fixture(t, s)

	must(t, s.WhitelistAdd(ctx, "c1", "Boss@Acme.com", true))
	must(t, s.WhitelistAdd(ctx, "c1", "@acme.com", false))
	must(t, s.WhitelistAdd(ctx, "c2", "@other.org", false))
	// Adding again replaces the company and the admin flag.
	must(t, s.WhitelistAdd(ctx, "c2", "@OTHER.org", true))

	d, err := s.Snapshot(ctx)
	must(t, err)
	want := sso.Whitelist{
		Emails:  map[string]sso.WhitelistEntry{"boss@acme.com": {Company: "c1", IsAdmin: true}},
		Domains: map[string]sso.WhitelistEntry{"acme.com": {Company: "c1"}, "other.org": {Company: "c2", IsAdmin: true}},
	}
	if !reflect.DeepEqual(d.Whitelist, want) {
		t.Errorf("whitelist = %+v, want %+v", d.Whitelist, want)
	}

	must(t, s.WhitelistRemove(ctx, "BOSS@acme.com"))
	must(t, s.WhitelistRemove(ctx, "@acme.com"))
	d, err = s.Snapshot(ctx)
	must(t, err)
	if len(d.Whitelist.Emails) != 0 || len(d.Whitelist.Domains) != 1 {
		t.Errorf("whitelist after removals = %+v", d.Whitelist)
	}

	tests := []struct {
		name     string
		op       func() error
		want     string
		notFound bool
	}{
		{"unknown company", func() error { return s.WhitelistAdd(ctx, "nope", "a@x.com", false) }, `store: company "nope" not found`, true},
		{"bad entry", func() error { return s.WhitelistAdd(ctx, "c1", "x.com", false) }, `store: whitelist entry "x.com"`, false},
		{"remove unknown email", func() error { return s.WhitelistRemove(ctx, "who@x.com") }, `store: whitelist entry "who@x.com" not found`, true},
		{"remove unknown domain", func() error { return s.WhitelistRemove(ctx, "@X.com") }, `store: whitelist entry "@x.com" not found`, true},
		{"remove bad entry", func() error { return s.WhitelistRemove(ctx, "") }, `store: whitelist entry ""`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dump(t, s)
			err := tt.op()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if got := errors.Is(err, sso.ErrNotFound); got != tt.notFound {
				t.Errorf("errors.Is(err, sso.ErrNotFound) = %v, want %v", got, tt.notFound)
			}
			if after := dump(t, s); after != before {
				t.Errorf("a failed operation changed the database")
			}
		})
	}
}
