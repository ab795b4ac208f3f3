package store

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/rego"
)

func TestLogin(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := openTest(t, WithNow(clk.Now))
	fixture(t, s)
	existingAlice(t, s)

	for _, tc := range []struct {
		name   string
		id     *rego.Identity
		d      *rego.Decision
		role   string
		groups []string
	}{
		{"sign-up", &rego.Identity{Issuer: issuer, UserID: "sub-b", Email: "bob@acme.com", Name: "Bob"},
			&rego.Decision{Allow: true, Signup: true, Company: "c1", SyncGroups: true, Groups: []string{"Ops"}},
			"user", []string{"Ops"}},
		{"existing user", alice(), &rego.Decision{Allow: true, Company: "c1", Role: ptr("user"), SyncGroups: true},
			"user", []string{"Ops"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct, token, err := s.Login(ctx, tc.id, tc.d, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if acct.Role != tc.role || !slices.Equal(acct.Groups, tc.groups) {
				t.Errorf("account %+v, want role %q groups %q", acct, tc.role, tc.groups)
			}
			got, err := s.SessionAccount(ctx, token)
			if err != nil {
				t.Fatalf("SessionAccount: %v", err)
			}
			if got.ID != acct.ID {
				t.Errorf("session of %q, want %q", got.ID, acct.ID)
			}
		})
	}
	got, err := s.SessionAccount(ctx, "")
	if err == nil {
		t.Errorf("SessionAccount of an empty token: %+v", got)
	}
}

// TestLoginFailureChangesNothing checks that a login whose session cannot be
// started leaves no user, role or membership behind.
func TestLoginFailureChangesNothing(t *testing.T) {
	refuseSessions := func(t *testing.T, s *Store) {
		_, err := s.w.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON sessions
			BEGIN SELECT RAISE(ABORT, 'sessions refused'); END`)
		must(t, err)
	}
	for _, tc := range []struct {
		name    string
		id      *rego.Identity
		d       *rego.Decision
		ttl     time.Duration
		prepare func(t *testing.T, s *Store)
		want    string
	}{
		{"sign-up, session refused", &rego.Identity{Issuer: issuer, UserID: "sub-b", Email: "bob@acme.com"},
			&rego.Decision{Allow: true, Signup: true, Company: "c1", SyncGroups: true, Groups: []string{"Ops"}},
			time.Hour, refuseSessions, "sessions refused"},
		{"existing user, session refused", alice(),
			&rego.Decision{Allow: true, Company: "c1", Role: ptr("user"), SyncGroups: true, Groups: []string{}},
			time.Hour, refuseSessions, "sessions refused"},
		{"lifetime not positive", alice(), &rego.Decision{Allow: true, Company: "c1", Role: ptr("user")},
			0, nil, "session lifetime 0s is not positive"},
		{"denied", alice(), &rego.Decision{Allow: false, Reasons: []string{"deny:not_whitelisted"}},
			time.Hour, nil, "deny:not_whitelisted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			s := openTest(t, WithNow(clk.Now))
			fixture(t, s)
			existingAlice(t, s)
			if tc.prepare != nil {
				tc.prepare(t, s)
			}
			clk.Advance(time.Hour)
			before := dump(t, s)

			acct, token, err := s.Login(context.Background(), tc.id, tc.d, tc.ttl)
			if err == nil {
				t.Fatalf("Login succeeded: %+v", acct)
			}
			if acct != nil || token != "" {
				t.Errorf("Login returned %+v, %q with its error", acct, token)
			}
			if !strings.HasPrefix(err.Error(), "store: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want a store: error containing %q", err, tc.want)
			}
			if after := dump(t, s); after != before {
				t.Errorf("a failed Login changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}
