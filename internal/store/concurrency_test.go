package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"
)

// TestLoginRace runs logins that carry one login state at once, through two
// Stores on one database as two server processes would: exactly one
// succeeds, the others are sso.ErrReplayed, and only the winner's session
// exists.
func TestLoginRace(t *testing.T) { eachEngine(t, testLoginRace) }

func testLoginRace(t *testing.T, e *testEngine) {
	ctx := context.Background()
	db := e.newDB(t)
	stores := []*Store{e.openAt(t, db), e.openAt(t, db)}
	fixture(t, stores[0])
	for round := range 5 {
		state := sso.LoginState{ID: fmt.Sprintf("raced-%d", round), Expires: time.Now().Add(time.Hour)}
		const n = 8
		tokens := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				id := alice()
				id.UserID = fmt.Sprintf("sub-%d-%d", round, i) // each would sign a different user up
				_, tokens[i], errs[i] = stores[i%2].Login(ctx, state, id,
					&sso.Decision{Allow: true, Signup: true, Company: "c1", SyncGroups: true, Groups: []string{"Ops"}}, time.Hour)
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
				if _, err := stores[0].SessionAccount(ctx, tokens[i]); err != nil {
					t.Errorf("round %d: the winner's session: %v", round, err)
				}
			case !errors.Is(err, sso.ErrReplayed):
				t.Errorf("round %d: login %d: %v, want success or sso.ErrReplayed", round, i, err)
			}
		}
		if winners != 1 {
			t.Errorf("round %d: %d logins succeeded with one state, want 1", round, winners)
		}
	}
	if users, sessions := count(t, stores[0], "users"), count(t, stores[0], "sessions"); users != 5 || sessions != 5 {
		t.Errorf("%d users and %d sessions after 5 raced states, want 5 and 5: the losers left something", users, sessions)
	}
}

// TestConcurrentLogins logs a few users in and out of their groups from
// many goroutines through two Stores: every login succeeds and every user
// ends with the groups of its last login.
func TestConcurrentLogins(t *testing.T) { eachEngine(t, testConcurrentLogins) }

func testConcurrentLogins(t *testing.T, e *testEngine) {
	ctx := context.Background()
	db := e.newDB(t)
	stores := []*Store{e.openAt(t, db), e.openAt(t, db)}
	fixture(t, stores[0])
	groups := [][]string{{"Ops"}, {"ML Team"}, {"Ops", "Admins"}}
	const users, logins = 4, 48
	var wg sync.WaitGroup
	errs := make([]error, logins)
	start := make(chan struct{})
	for i := range logins {
		wg.Go(func() {
			<-start
			id := &sso.Identity{Issuer: issuer, UserID: fmt.Sprintf("u%d", i%users)}
			_, _, errs[i] = stores[i%2].Login(ctx, sso.LoginState{ID: fmt.Sprint("s", i), Expires: time.Now().Add(time.Hour)}, id,
				&sso.Decision{Allow: true, Signup: true, Company: "c1", SyncGroups: true, Groups: groups[(i/users)%len(groups)]}, time.Hour)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("login %d: %v", i, err)
		}
	}
	if n := count(t, stores[0], "users"); n != users {
		t.Errorf("%d users, want %d", n, users)
	}
	// One more login each, alone: its groups are what the user has.
	for u := range users {
		a, _, err := stores[1].Login(ctx, sso.LoginState{ID: fmt.Sprint("last", u), Expires: time.Now().Add(time.Hour)},
			&sso.Identity{Issuer: issuer, UserID: fmt.Sprintf("u%d", u)},
			&sso.Decision{Allow: true, SyncGroups: true, Groups: []string{"ML Team"}}, time.Hour)
		must(t, err)
		if got := sources(t, stores[0], a.ID); !reflect.DeepEqual(got, map[string]string{"ML Team": "sso"}) {
			t.Errorf("user u%d: memberships %v, want ML Team only", u, got)
		}
	}
}

// TestRetrySerializationFailure forces a serialization failure on the first
// run of a directory transaction, by committing a conflicting change from
// another connection in the middle of it: the store runs it again and
// succeeds. A conflict at every run fails after maxAttempts runs.
func TestRetrySerializationFailure(t *testing.T) {
	e := postgresTest(t)
	ctx := context.Background()
	db := e.newDB(t)
	s, other := e.openAt(t, db), e.openAt(t, db)
	fixture(t, s)

	for _, tc := range []struct {
		name      string
		conflicts int // runs that meet a conflict
		wantRuns  int
		wantErr   bool
	}{
		{"one conflict", 1, 2, false},
		{"a conflict at every run", maxAttempts + 5, maxAttempts, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := 0
			err := s.writeDirectory(ctx, func(t *tx) error {
				runs++
				var name string
				if err := t.queryRow(ctx, "SELECT name FROM companies WHERE id = 'c1'").Scan(&name); err != nil {
					return err
				}
				if runs <= tc.conflicts {
					// Another process renames c1 after this
					// transaction read it.
					if _, err := other.w.ExecContext(ctx, "UPDATE companies SET name = $1 WHERE id = 'c1'", fmt.Sprint("Acme ", runs)); err != nil {
						return err
					}
				}
				_, err := t.exec(ctx, "UPDATE companies SET name = ? WHERE id = 'c1'", name+"!")
				return err
			})
			if runs != tc.wantRuns || (err != nil) != tc.wantErr {
				t.Fatalf("%d runs, error %v; want %d runs, error %v", runs, err, tc.wantRuns, tc.wantErr)
			}
			if tc.wantErr && (pgCode(err) != pgSerializationFailure) {
				t.Errorf("error %v, want the serialization failure", err)
			}
		})
	}
}
