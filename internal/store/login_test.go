package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/sso"
)

func TestLogin(t *testing.T) { eachEngine(t, testLogin) }

func testLogin(t *testing.T, e *testEngine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, WithNow(clk.Now))
	fixture(t, s)
	existingAlice(t, s)

	for _, tc := range []struct {
		name   string
		id     *sso.Identity
		d      *sso.Decision
		role   string
		groups []string
	}{
		{"sign-up", &sso.Identity{Issuer: issuer, UserID: "sub-b", Email: "bob@acme.com", Name: "Bob"},
			&sso.Decision{Allow: true, Signup: true, Company: "c1", SyncGroups: true, Groups: []string{"Ops"}},
			"user", []string{"Ops"}},
		{"existing user", alice(), &sso.Decision{Allow: true, Company: "c1", Role: ptr("user"), SyncGroups: true},
			"user", []string{"Ops"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.id.Groups = []string{"Ops", "Elsewhere"}
			tc.d.Reasons = []string{"test:" + tc.name}
			acct, token, err := s.Login(ctx, testState(clk, tc.name), tc.id, tc.d, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if acct.Role != tc.role || !slices.Equal(acct.Groups, tc.groups) || acct.CompanyName == "" {
				t.Errorf("account %+v, want role %q groups %q and a company name", acct, tc.role, tc.groups)
			}
			got, err := s.SessionAccount(ctx, token)
			if err != nil {
				t.Fatalf("SessionAccount: %v", err)
			}
			if got.ID != acct.ID || got.CompanyName != acct.CompanyName ||
				!slices.Equal(got.PingGroups, tc.id.Groups) || !slices.Equal(got.Reasons, tc.d.Reasons) {
				t.Errorf("session account %+v, want %q with Ping groups %q and reasons %q", got, acct.ID, tc.id.Groups, tc.d.Reasons)
			}
		})
	}
	got, err := s.SessionAccount(ctx, "")
	if err == nil {
		t.Errorf("SessionAccount of an empty token: %+v", got)
	}
}

// TestLoginStateSingleUse checks that a login state is consumed once, that a
// replay changes nothing, and that expired records are pruned.
func TestLoginStateSingleUse(t *testing.T) { eachEngine(t, testLoginStateSingleUse) }

func testLoginStateSingleUse(t *testing.T, e *testEngine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, WithNow(clk.Now))
	fixture(t, s)
	existingAlice(t, s)
	d := &sso.Decision{Allow: true, Company: "c1", Role: ptr("user")}
	st := testState(clk, "once")
	if _, _, err := s.Login(ctx, st, alice(), d, time.Hour); err != nil {
		t.Fatal(err)
	}
	before := dump(t, s)
	if _, _, err := s.Login(ctx, st, alice(), d, time.Hour); !errors.Is(err, sso.ErrReplayed) {
		t.Fatalf("replayed Login = %v, want sso.ErrReplayed", err)
	}
	if after := dump(t, s); after != before {
		t.Errorf("a replayed Login changed the database")
	}
	clk.Advance(11 * time.Minute)
	if _, _, err := s.Login(ctx, testState(clk, "later"), alice(), d, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "login_states"); n != 2 {
		t.Errorf("%d login states recorded, want 2: a login prunes nothing", n)
	}
	_, err := s.Prune(ctx)
	must(t, err)
	if n := count(t, s, "login_states"); n != 1 {
		t.Errorf("%d login states recorded after Prune, want 1: the expired one is pruned", n)
	}
	if _, _, err := s.Login(ctx, testState(clk, "later"), alice(), d, time.Hour); !errors.Is(err, sso.ErrReplayed) {
		t.Errorf("replay of a state Prune kept: %v, want sso.ErrReplayed", err)
	}
}

// testState is a login state that expires ten minutes from now.
func testState(clk *testutil.Clock, id string) sso.LoginState {
	return sso.LoginState{ID: id, Expires: clk.Now().Add(10 * time.Minute)}
}

// TestLoginFailureChangesNothing checks that a login whose session cannot be
// started leaves no user, role or membership behind.
func TestLoginFailureChangesNothing(t *testing.T) { eachEngine(t, testLoginFailureChangesNothing) }

func testLoginFailureChangesNothing(t *testing.T, e *testEngine) {
	refuseSessions := func(t *testing.T, s *Store) {
		refuse(t, s, "INSERT", "sessions", "sessions refused")
	}
	for _, tc := range []struct {
		name    string
		id      *sso.Identity
		d       *sso.Decision
		ttl     time.Duration
		prepare func(t *testing.T, s *Store)
		want    string
	}{
		{"sign-up, session refused", &sso.Identity{Issuer: issuer, UserID: "sub-b", Email: "bob@acme.com"},
			&sso.Decision{Allow: true, Signup: true, Company: "c1", SyncGroups: true, Groups: []string{"Ops"}},
			time.Hour, refuseSessions, "sessions refused"},
		{"existing user, session refused", alice(),
			&sso.Decision{Allow: true, Company: "c1", Role: ptr("user"), SyncGroups: true, Groups: []string{}},
			time.Hour, refuseSessions, "sessions refused"},
		{"lifetime not positive", alice(), &sso.Decision{Allow: true, Company: "c1", Role: ptr("user")},
			0, nil, "session lifetime 0s is not positive"},
		{"denied", alice(), &sso.Decision{Allow: false, Reasons: []string{"deny:not_whitelisted"}},
			time.Hour, nil, "deny:not_whitelisted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			s := e.open(t, WithNow(clk.Now))
			fixture(t, s)
			existingAlice(t, s)
			if tc.prepare != nil {
				tc.prepare(t, s)
			}
			clk.Advance(time.Hour)
			before := dump(t, s)

			acct, token, err := s.Login(context.Background(), testState(clk, "st"), tc.id, tc.d, tc.ttl)
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

// TestLoginStatements counts what a login asks of the database, as the
// host does it (FindUser, then Login): a repeat login with unchanged groups
// runs five statements besides BEGIN and COMMIT: FindUser one, Login four.
func TestLoginStatements(t *testing.T) { eachEngine(t, testLoginStatements) }

func testLoginStatements(t *testing.T, e *testEngine) {
	ctx := context.Background()
	s := e.open(t)
	fixture(t, s)
	d := &sso.Decision{Allow: true, Signup: true, Company: "c1", Role: ptr("user"), SyncGroups: true, Groups: []string{"Ops", "ML Team"}}
	for i, want := range []int64{9, 5, 5} { // a sign-up into two groups, then repeat logins
		before := s.statements.Load()
		if _, err := s.FindUser(ctx, issuer, "sub-a"); err != nil && !errors.Is(err, sso.ErrNotFound) {
			t.Fatal(err)
		}
		if _, _, err := s.Login(ctx, sso.LoginState{ID: fmt.Sprint("st", i), Expires: time.Now().Add(time.Hour)}, alice(), d, time.Hour); err != nil {
			t.Fatal(err)
		}
		if got := s.statements.Load() - before; got != want {
			t.Errorf("login %d ran %d statements, want %d", i, got, want)
		}
	}
}

// TestStatementsPrepared checks that the statements of a login are prepared
// once and then reused: after the first login, a login prepares nothing.
func TestStatementsPrepared(t *testing.T) { eachEngine(t, testStatementsPrepared) }

func testStatementsPrepared(t *testing.T, e *testEngine) {
	ctx := context.Background()
	s := e.open(t)
	fixture(t, s)
	d := &sso.Decision{Allow: true, Signup: true, Company: "c1", SyncGroups: true, Groups: []string{"Ops"}}
	prepared := func() int {
		s.stmtMu.Lock()
		defer s.stmtMu.Unlock()
		return len(s.stmts)
	}
	var after int
	for i := range 3 {
		if _, err := s.FindUser(ctx, issuer, "sub-a"); err != nil && !errors.Is(err, sso.ErrNotFound) {
			t.Fatal(err)
		}
		if _, _, err := s.Login(ctx, sso.LoginState{ID: fmt.Sprint("p", i), Expires: time.Now().Add(time.Hour)}, alice(), d, time.Hour); err != nil {
			t.Fatal(err)
		}
		switch {
		case i == 1:
			after = prepared()
		case i == 2 && prepared() != after:
			t.Errorf("a repeat login prepared %d statements more", prepared()-after)
		}
	}
	if after < 5 {
		t.Errorf("%d statements prepared after two logins, want the login's 5 at least", after)
	}
}
