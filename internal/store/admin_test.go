package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/sso"
)

// signUp creates a user through Apply and returns its store id.
func signUp(t testing.TB, s *Store, userID, company string) string {
	t.Helper()
	a, err := s.Apply(context.Background(),
		&sso.Identity{Issuer: "https://idp", UserID: userID, Email: userID + "@x.com", Name: userID},
		&sso.Decision{Allow: true, Signup: true, Company: company})
	must(t, err)
	return a.ID
}

func TestAdminErrors(t *testing.T) { eachEngine(t, testAdminErrors) }

func testAdminErrors(t *testing.T, e *testEngine) {
	ctx := context.Background()
	type users struct{ alice, bob string }
	tests := []struct {
		name string
		op   func(s *Store, u users) error
		// want is a substring of the error; empty means success.
		want string
		// notFound and exists say which typed error is expected.
		notFound, exists bool
	}{
		{"add company", func(s *Store, _ users) error { return s.AddCompany(ctx, "c3", "Third") }, "", false, false},
		{"duplicate company", func(s *Store, _ users) error { return s.AddCompany(ctx, "c1", "Again") },
			`store: company "c1" already exists`, false, true},
		{"empty company id", func(s *Store, _ users) error { return s.AddCompany(ctx, "", "X") }, "store: company id is empty", false, false},
		{"empty company name", func(s *Store, _ users) error { return s.AddCompany(ctx, "c3", "") }, "store: company name is empty", false, false},
		{"padded company id", func(s *Store, _ users) error { return s.AddCompany(ctx, " c3", "X") }, "white space", false, false},
		{"control character", func(s *Store, _ users) error { return s.AddCompany(ctx, "c3", "a\tb") }, "control character", false, false},

		{"add group", func(s *Store, _ users) error { return s.AddGroup(ctx, "c2", "Ops") }, "", false, false},
		{"group differing in case", func(s *Store, _ users) error { return s.AddGroup(ctx, "c1", "ml team") }, "", false, false},
		{"duplicate group", func(s *Store, _ users) error { return s.AddGroup(ctx, "c1", "ML Team") },
			`store: group "ML Team" in company "c1" already exists`, false, true},
		{"group of unknown company", func(s *Store, _ users) error { return s.AddGroup(ctx, "nope", "G") },
			`store: company "nope" not found`, true, false},
		{"empty group", func(s *Store, _ users) error { return s.AddGroup(ctx, "c1", "") }, "store: group name is empty", false, false},

		{"remove group", func(s *Store, _ users) error { return s.RemoveGroup(ctx, "c1", "Ops") }, "", false, false},
		{"remove unknown group", func(s *Store, _ users) error { return s.RemoveGroup(ctx, "c1", "Nope") },
			`store: group "Nope" in company "c1" not found`, true, false},
		{"remove group of other company", func(s *Store, _ users) error { return s.RemoveGroup(ctx, "c2", "Ops") },
			`store: group "Ops" in company "c2" not found`, true, false},
		{"remove group of unknown company", func(s *Store, _ users) error { return s.RemoveGroup(ctx, "nope", "Ops") },
			`store: company "nope" not found`, true, false},

		{"add membership", func(s *Store, u users) error { return s.AddMembership(ctx, "c1", u.alice, "Ops") }, "", false, false},
		{"membership of unknown user", func(s *Store, _ users) error { return s.AddMembership(ctx, "c1", "nobody", "Ops") },
			`store: user "nobody" not found`, true, false},
		{"membership in unknown group", func(s *Store, u users) error { return s.AddMembership(ctx, "c1", u.alice, "Nope") },
			`store: group "Nope" in company "c1" not found`, true, false},
		{"membership in unknown company", func(s *Store, u users) error { return s.AddMembership(ctx, "nope", u.alice, "Ops") },
			`store: company "nope" not found`, true, false},
		{"membership across companies", func(s *Store, u users) error { return s.AddMembership(ctx, "c1", u.bob, "ML Team") },
			`is in company "c2", not "c1"`, false, false},
		{"remove absent membership", func(s *Store, u users) error { return s.RemoveMembership(ctx, "c1", u.alice, "Ops") },
			`store: membership of user`, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.open(t)
			fixture(t, s)
			u := users{alice: signUp(t, s, "alice", "c1"), bob: signUp(t, s, "bob", "c2")}
			before := dump(t, s)
			err := tt.op(s, u)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if got := errors.Is(err, sso.ErrNotFound); got != tt.notFound {
				t.Errorf("errors.Is(err, sso.ErrNotFound) = %v, want %v", got, tt.notFound)
			}
			var ee *ExistsError
			if got := errors.As(err, &ee); got != tt.exists {
				t.Errorf("errors.As(err, *ExistsError) = %v, want %v", got, tt.exists)
			}
			if after := dump(t, s); after != before {
				t.Errorf("a failed operation changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

func TestMemberships(t *testing.T) { eachEngine(t, testMemberships) }

func testMemberships(t *testing.T, e *testEngine) {
	ctx := context.Background()
	s := e.open(t)
	fixture(t, s)
	alice := signUp(t, s, "alice", "c1")
	bob := signUp(t, s, "bob", "c1")

	must(t, s.AddMembership(ctx, "c1", alice, "Ops"))
	must(t, s.AddMembership(ctx, "c1", alice, "Ops")) // idempotent
	must(t, s.AddMembership(ctx, "c1", bob, "Ops"))
	// An SSO membership that an administrator grants becomes an admin one.
	_, err := s.Apply(ctx, &sso.Identity{Issuer: "https://idp", UserID: "alice"},
		&sso.Decision{Allow: true, SyncGroups: true, Groups: []string{"Ops", "ML Team"}})
	must(t, err)
	if got, want := sources(t, s, alice), map[string]string{"Ops": "admin", "ML Team": "sso"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("sources = %v, want %v", got, want)
	}
	must(t, s.AddMembership(ctx, "c1", alice, "ML Team"))
	if got, want := sources(t, s, alice), map[string]string{"Ops": "admin", "ML Team": "admin"}; !reflect.DeepEqual(got, want) {
		t.Errorf("sources after the admin grant = %v, want %v", got, want)
	}

	must(t, s.RemoveMembership(ctx, "c1", alice, "ML Team"))
	a, err := s.User(ctx, alice)
	must(t, err)
	if !reflect.DeepEqual(a.Groups, []string{"Ops"}) {
		t.Errorf("groups after removal = %v, want [Ops]", a.Groups)
	}

	// Removing a group removes its memberships, whatever their source.
	must(t, s.RemoveGroup(ctx, "c1", "Ops"))
	if n := count(t, s, "memberships"); n != 0 {
		t.Errorf("%d memberships left after removing the group", n)
	}
}

func TestUsers(t *testing.T) { eachEngine(t, testUsers) }

func testUsers(t *testing.T, e *testEngine) {
	ctx := context.Background()
	s := e.open(t)
	got, err := s.Users(ctx)
	must(t, err)
	if got == nil || len(got) != 0 {
		t.Fatalf("Users on an empty store = %#v, want an empty slice", got)
	}
	fixture(t, s)
	carol := signUp(t, s, "carol", "c2")
	alice := signUp(t, s, "alice", "c1")
	bob := signUp(t, s, "bob", "c1")
	must(t, s.AddMembership(ctx, "c1", bob, "Ops"))
	must(t, s.AddMembership(ctx, "c1", bob, "Admins"))

	got, err = s.Users(ctx)
	must(t, err)
	want := []sso.Account{
		{ID: alice, Email: "alice@x.com", Name: "alice", Company: "c1", Role: "user", Groups: []string{}},
		{ID: bob, Email: "bob@x.com", Name: "bob", Company: "c1", Role: "user", Groups: []string{"Admins", "Ops"}},
		{ID: carol, Email: "carol@x.com", Name: "carol", Company: "c2", Role: "user", Groups: []string{}},
	}
	for i := range want {
		want[i].CompanyName = companyNames[want[i].Company]
		want[i].PingGroups, want[i].Reasons = []string{}, []string{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Users =\n%+v\nwant\n%+v", got, want)
	}

	one, err := s.User(ctx, bob)
	must(t, err)
	if !reflect.DeepEqual(*one, want[1]) {
		t.Errorf("User = %+v, want %+v", *one, want[1])
	}
	if _, err := s.User(ctx, "nobody"); !errors.Is(err, sso.ErrNotFound) || !strings.Contains(err.Error(), `"nobody"`) {
		t.Errorf("User(nobody) error = %v, want a not-found error naming it", err)
	}
}

func TestRemoveCompany(t *testing.T) { eachEngine(t, testRemoveCompany) }

func testRemoveCompany(t *testing.T, e *testEngine) {
	ctx := context.Background()
	s := e.open(t)
	fixture(t, s)
	signUp(t, s, "alice", "c1")
	must(t, s.AddCompany(ctx, "c3", "Third"))
	must(t, s.AddGroup(ctx, "c3", "G"))
	must(t, s.WhitelistAdd(ctx, "c3", "@third.com", false))
	must(t, s.WhitelistAdd(ctx, "c3", "boss@third.com", true))

	before := dump(t, s)
	err := s.RemoveCompany(ctx, "c1")
	var inUse *InUseError
	if !errors.As(err, &inUse) || inUse.Users != 1 || !strings.Contains(err.Error(), `company "c1" still has 1 user(s)`) {
		t.Fatalf("removing a company with a user: %v, want an InUseError naming it", err)
	}
	if after := dump(t, s); after != before {
		t.Errorf("a refused removal changed the database")
	}
	if err := s.RemoveCompany(ctx, "nope"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("removing an unknown company: %v, want sso.ErrNotFound", err)
	}

	must(t, s.RemoveCompany(ctx, "c3"))
	d, err := s.Snapshot(ctx)
	must(t, err)
	if _, ok := d.Companies["c3"]; ok || len(d.Whitelist.Emails)+len(d.Whitelist.Domains) != 0 {
		t.Errorf("after removing c3: %+v", d)
	}
	if n := count(t, s, "groups"); n != 4 {
		t.Errorf("%d groups left, want the fixture's 4", n)
	}
	// The database itself refuses to orphan users.
	_, err = s.w.ExecContext(ctx, "DELETE FROM companies WHERE id = 'c1'")
	if err == nil {
		t.Error("the database let a company with users go")
	}
}

func TestCompaniesAndGroups(t *testing.T) { eachEngine(t, testCompaniesAndGroups) }

func testCompaniesAndGroups(t *testing.T, e *testEngine) {
	ctx := context.Background()
	s := e.open(t)
	got, err := s.Companies(ctx)
	must(t, err)
	if got == nil || len(got) != 0 {
		t.Fatalf("Companies on an empty store = %#v, want an empty slice", got)
	}
	fixture(t, s)
	must(t, s.AddCompany(ctx, "c3", "Empty"))
	alice := signUp(t, s, "alice", "c1")
	bob := signUp(t, s, "bob", "c1")
	signUp(t, s, "carol", "c2")
	must(t, s.AddMembership(ctx, "c1", alice, "Ops"))
	must(t, s.AddMembership(ctx, "c1", bob, "Ops"))
	must(t, s.AddMembership(ctx, "c1", bob, "Admins"))

	got, err = s.Companies(ctx)
	must(t, err)
	want := []CompanyInfo{
		{ID: "c1", Name: "Acme", Groups: []string{"Admins", "ML Team", "Ops"}, Users: 2},
		{ID: "c2", Name: "Other", Groups: []string{"ML Team"}, Users: 1},
		{ID: "c3", Name: "Empty", Groups: []string{}, Users: 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Companies =\n%+v\nwant\n%+v", got, want)
	}

	for _, tc := range []struct {
		company string
		want    []GroupInfo
	}{
		{"", []GroupInfo{{"c1", "Admins", 1}, {"c1", "ML Team", 0}, {"c1", "Ops", 2}, {"c2", "ML Team", 0}}},
		{"c2", []GroupInfo{{"c2", "ML Team", 0}}},
		{"c3", []GroupInfo{}},
	} {
		groups, err := s.Groups(ctx, tc.company)
		must(t, err)
		if !reflect.DeepEqual(groups, tc.want) {
			t.Errorf("Groups(%q) = %+v, want %+v", tc.company, groups, tc.want)
		}
	}
	if _, err := s.Groups(ctx, "nope"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("Groups of an unknown company: %v, want sso.ErrNotFound", err)
	}
}
