package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"
)

const issuer = "https://idp.example.com"

// alice is the identity most Apply tests log in with.
func alice() *sso.Identity {
	return &sso.Identity{Issuer: issuer, Subject: "sub-a", UserID: "sub-a", Email: "alice@acme.com", Name: "Alice"}
}

// existingAlice signs alice up into c1 as an admin with an SSO membership in
// "ML Team" and an admin membership in "Ops"; it returns her store id.
func existingAlice(t testing.TB, s *Store) string {
	t.Helper()
	ctx := context.Background()
	a, err := s.Apply(ctx, alice(), &sso.Decision{Allow: true, Signup: true, Company: "c1", Role: ptr("admin"),
		SyncGroups: true, Groups: []string{"ML Team"}})
	must(t, err)
	must(t, s.AddMembership(ctx, "c1", a.ID, "Ops"))
	return a.ID
}

func TestApply(t *testing.T) { eachEngine(t, testApply) }

func testApply(t *testing.T, e *testEngine) {
	renamed := alice()
	renamed.Email, renamed.Name = "alice@new.com", "Alice B"
	anonymous := alice()
	anonymous.Email, anonymous.Name = "", ""

	tests := []struct {
		name     string
		existing bool // sign alice up first (see existingAlice)
		id       *sso.Identity
		d        sso.Decision
		want     sso.Account // ID is not compared
		sources  map[string]string
	}{
		{
			name: "sign-up with the default role",
			id:   alice(),
			d:    sso.Decision{Allow: true, Signup: true, Company: "c1"},
			want: sso.Account{Email: "alice@acme.com", Name: "Alice", Company: "c1", Role: "user", Groups: []string{}},
		},
		{
			name: "sign-up as admin with groups",
			id:   alice(),
			d: sso.Decision{Allow: true, Signup: true, Company: "c1", Role: ptr("admin"),
				SyncGroups: true, Groups: []string{"Ops", "ML Team", "Ops", "No Such Group", "ml team"}},
			want:    sso.Account{Email: "alice@acme.com", Name: "Alice", Company: "c1", Role: "admin", Groups: []string{"ML Team", "Ops"}},
			sources: map[string]string{"ML Team": "sso", "Ops": "sso"},
		},
		{
			name: "sign-up ignores groups without sync",
			id:   alice(),
			d:    sso.Decision{Allow: true, Signup: true, Company: "c1", Groups: []string{"Ops"}},
			want: sso.Account{Email: "alice@acme.com", Name: "Alice", Company: "c1", Role: "user", Groups: []string{}},
		},
		{
			name:     "existing user keeps a nil role",
			existing: true,
			id:       renamed,
			d:        sso.Decision{Allow: true},
			want:     sso.Account{Email: "alice@new.com", Name: "Alice B", Company: "c1", Role: "admin", Groups: []string{"ML Team", "Ops"}},
			sources:  map[string]string{"ML Team": "sso", "Ops": "admin"},
		},
		{
			name:     "existing user is demoted",
			existing: true,
			id:       alice(),
			d:        sso.Decision{Allow: true, Role: ptr("user")},
			want:     sso.Account{Email: "alice@acme.com", Name: "Alice", Company: "c1", Role: "user", Groups: []string{"ML Team", "Ops"}},
			sources:  map[string]string{"ML Team": "sso", "Ops": "admin"},
		},
		{
			name:     "existing user keeps email and name the identity lacks",
			existing: true,
			id:       anonymous,
			d:        sso.Decision{Allow: true},
			want:     sso.Account{Email: "alice@acme.com", Name: "Alice", Company: "c1", Role: "admin", Groups: []string{"ML Team", "Ops"}},
			sources:  map[string]string{"ML Team": "sso", "Ops": "admin"},
		},
		{
			name:     "existing user keeps its company on a sign-up decision",
			existing: true,
			id:       alice(),
			d:        sso.Decision{Allow: true, Signup: true, Company: "c2", SyncGroups: true, Groups: []string{"ML Team"}},
			want:     sso.Account{Email: "alice@acme.com", Name: "Alice", Company: "c1", Role: "admin", Groups: []string{"ML Team", "Ops"}},
			sources:  map[string]string{"ML Team": "sso", "Ops": "admin"},
		},
		{
			name:     "SSO membership no longer decided is removed, admin one survives",
			existing: true,
			id:       alice(),
			d:        sso.Decision{Allow: true, SyncGroups: true, Groups: []string{}},
			want:     sso.Account{Email: "alice@acme.com", Name: "Alice", Company: "c1", Role: "admin", Groups: []string{"Ops"}},
			sources:  map[string]string{"Ops": "admin"},
		},
		{
			name:     "groups are added and removed together",
			existing: true,
			id:       alice(),
			d:        sso.Decision{Allow: true, SyncGroups: true, Groups: []string{"Admins"}},
			want:     sso.Account{Email: "alice@acme.com", Name: "Alice", Company: "c1", Role: "admin", Groups: []string{"Admins", "Ops"}},
			sources:  map[string]string{"Admins": "sso", "Ops": "admin"},
		},
		{
			name:     "a decided admin membership stays an admin one",
			existing: true,
			id:       alice(),
			d:        sso.Decision{Allow: true, SyncGroups: true, Groups: []string{"Ops", "ML Team"}},
			want:     sso.Account{Email: "alice@acme.com", Name: "Alice", Company: "c1", Role: "admin", Groups: []string{"ML Team", "Ops"}},
			sources:  map[string]string{"ML Team": "sso", "Ops": "admin"},
		},
		{
			name:     "group names are compared exactly",
			existing: true,
			id:       alice(),
			d:        sso.Decision{Allow: true, SyncGroups: true, Groups: []string{"ml team"}},
			want:     sso.Account{Email: "alice@acme.com", Name: "Alice", Company: "c1", Role: "admin", Groups: []string{"Ops"}},
			sources:  map[string]string{"Ops": "admin"},
		},
		{
			name:     "memberships stay without sync",
			existing: true,
			id:       alice(),
			d:        sso.Decision{Allow: true, Groups: []string{"Admins"}},
			want:     sso.Account{Email: "alice@acme.com", Name: "Alice", Company: "c1", Role: "admin", Groups: []string{"ML Team", "Ops"}},
			sources:  map[string]string{"ML Team": "sso", "Ops": "admin"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clk := newClock()
			s := e.open(t, WithNow(clk.Now))
			fixture(t, s)
			var existingID string
			if tt.existing {
				existingID = existingAlice(t, s)
			}
			clk.Advance(time.Hour)

			got, err := s.Apply(ctx, tt.id, &tt.d)
			must(t, err)
			if got.ID == "" || (tt.existing && got.ID != existingID) {
				t.Errorf("account id = %q, want the existing %q", got.ID, existingID)
			}
			want := tt.want
			want.ID = got.ID
			want.CompanyName = companyNames[want.Company]
			want.PingGroups, want.Reasons = []string{}, []string{}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("Apply =\n%+v\nwant\n%+v", *got, want)
			}
			if stored, err := s.User(ctx, got.ID); err != nil || !reflect.DeepEqual(stored, got) {
				t.Errorf("stored account = %+v, %v; want what Apply returned", stored, err)
			}
			src := sources(t, s, got.ID)
			if tt.sources == nil {
				tt.sources = map[string]string{}
			}
			if !reflect.DeepEqual(src, tt.sources) {
				t.Errorf("membership sources = %v, want %v", src, tt.sources)
			}
			lastLogin := queryInt(t, s, "SELECT last_login FROM users WHERE id = ?", got.ID)
			if want := clk.Now().UnixMilli(); lastLogin != want {
				t.Errorf("last_login = %d, want %d", lastLogin, want)
			}
			if n := count(t, s, "users"); n != 1 {
				t.Errorf("%d users, want 1", n)
			}
		})
	}
}

func TestApplyFailureChangesNothing(t *testing.T) { eachEngine(t, testApplyFailureChangesNothing) }

func testApplyFailureChangesNothing(t *testing.T, e *testEngine) {
	stranger := &sso.Identity{Issuer: issuer, UserID: "sub-z", Email: "z@acme.com"}
	tests := []struct {
		name string
		id   *sso.Identity
		d    *sso.Decision
		// prepare runs after the fixture and before the "before" dump.
		prepare func(t *testing.T, s *Store)
		want    string
		is      error
	}{
		{name: "denied", id: alice(), d: &sso.Decision{Allow: false, Reasons: []string{"deny:not_whitelisted"}},
			want: "deny:not_whitelisted", is: ErrDenied},
		{name: "denied existing user", id: alice(), d: &sso.Decision{Allow: false, Signup: true, Company: "c1", Role: ptr("user")},
			want: "does not allow", is: ErrDenied},
		{name: "unknown company", id: stranger, d: &sso.Decision{Allow: true, Signup: true, Company: "nope"},
			want: `company "nope" not found`, is: sso.ErrNotFound},
		{name: "no company", id: stranger, d: &sso.Decision{Allow: true, Signup: true},
			want: "names no company"},
		{name: "unknown user without sign-up", id: stranger, d: &sso.Decision{Allow: true, Company: "c1"},
			want: `user "sub-z" of issuer`, is: sso.ErrNotFound},
		{name: "same user id of another issuer", id: &sso.Identity{Issuer: "https://other", UserID: "sub-a"},
			d: &sso.Decision{Allow: true}, want: "not found", is: sso.ErrNotFound},
		{name: "empty role", id: alice(), d: &sso.Decision{Allow: true, Role: ptr("")}, want: "role is empty"},
		{name: "empty user id", id: &sso.Identity{Issuer: issuer}, d: &sso.Decision{Allow: true, Signup: true, Company: "c1"},
			want: "empty user id"},
		{name: "nil identity", d: &sso.Decision{Allow: true}, want: "identity is nil"},
		{name: "nil decision", id: alice(), want: "decision is nil"},
		{
			// The user row is written before the membership fails: the
			// whole transaction must roll back.
			name: "failure after the first write",
			id:   stranger,
			d:    &sso.Decision{Allow: true, Signup: true, Company: "c1", SyncGroups: true, Groups: []string{"Ops"}},
			prepare: func(t *testing.T, s *Store) {
				refuse(t, s, "INSERT", "memberships", "memberships refused")
			},
			want: "memberships refused",
		},
		{
			name: "existing user, failure after the update",
			id:   alice(),
			d:    &sso.Decision{Allow: true, Role: ptr("user"), SyncGroups: true, Groups: []string{}},
			prepare: func(t *testing.T, s *Store) {
				refuse(t, s, "DELETE", "memberships", "removal refused")
			},
			want: "removal refused",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			s := e.open(t, WithNow(clk.Now))
			fixture(t, s)
			existingAlice(t, s)
			must(t, s.WhitelistAdd(context.Background(), "c1", "@acme.com", false))
			if tt.prepare != nil {
				tt.prepare(t, s)
			}
			clk.Advance(time.Hour)
			before := dump(t, s)

			got, err := s.Apply(context.Background(), tt.id, tt.d)
			if err == nil {
				t.Fatalf("Apply succeeded: %+v", got)
			}
			if got != nil {
				t.Errorf("Apply returned an account with its error: %+v", got)
			}
			if !strings.HasPrefix(err.Error(), "store: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want a store: error containing %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if after := dump(t, s); after != before {
				t.Errorf("a failed Apply changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestApplyConcurrentSignUp signs the same new identity up from many
// goroutines at once, through two Stores on one file as two server processes
// would: there must be one user, and every login must succeed with it.
func TestApplyConcurrentSignUp(t *testing.T) { eachEngine(t, testApplyConcurrentSignUp) }

func testApplyConcurrentSignUp(t *testing.T, e *testEngine) {
	ctx := context.Background()
	db := e.newDB(t)
	stores := []*Store{e.openAt(t, db), e.openAt(t, db)}
	fixture(t, stores[0])

	const n = 16
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			a, err := stores[i%2].Apply(ctx, alice(), &sso.Decision{Allow: true, Signup: true, Company: "c1",
				SyncGroups: true, Groups: []string{"ML Team", fmt.Sprintf("Group %d", i)}})
			if err == nil {
				ids[i] = a.ID
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("login %d: %v", i, err)
		} else if ids[i] != ids[0] {
			t.Errorf("login %d got user %q, login 0 got %q", i, ids[i], ids[0])
		}
	}
	if got := count(t, stores[0], "users"); got != 1 {
		t.Errorf("%d users after concurrent sign-ups, want 1", got)
	}
	if got := sources(t, stores[1], ids[0]); !reflect.DeepEqual(got, map[string]string{"ML Team": "sso"}) {
		t.Errorf("memberships = %v, want ML Team from SSO", got)
	}
}
