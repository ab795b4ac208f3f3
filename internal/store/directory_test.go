package store

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"
)

func TestSnapshot(t *testing.T) { eachEngine(t, testSnapshot) }

func testSnapshot(t *testing.T, e *testEngine) {
	ctx := context.Background()
	s := e.open(t)

	d, err := s.Snapshot(ctx)
	must(t, err)
	empty, err := json.Marshal(d)
	must(t, err)
	if got, want := string(empty), `{"companies":{},"whitelist":{"emails":{},"domains":{}}}`; got != want {
		t.Errorf("empty snapshot = %s, want %s", got, want)
	}

	fixture(t, s)
	must(t, s.AddCompany(ctx, "c3", "Empty"))
	must(t, s.AddGroup(ctx, "c1", "ml team")) // distinct from "ML Team"
	must(t, s.WhitelistAdd(ctx, "c1", "boss@acme.com", true))
	must(t, s.WhitelistAdd(ctx, "c2", "@other.org", false))

	d, err = s.Snapshot(ctx)
	must(t, err)
	want := &sso.Directory{
		Companies: map[string]sso.Company{
			"c1": {Name: "Acme", Groups: []string{"Admins", "ML Team", "Ops", "ml team"}},
			"c2": {Name: "Other", Groups: []string{"ML Team"}},
			"c3": {Name: "Empty", Groups: []string{}},
		},
		Whitelist: sso.Whitelist{
			Emails:  map[string]sso.WhitelistEntry{"boss@acme.com": {Company: "c1", IsAdmin: true}},
			Domains: map[string]sso.WhitelistEntry{"other.org": {Company: "c2"}},
		},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("Snapshot =\n%+v\nwant\n%+v", d, want)
	}
}

func TestFindUser(t *testing.T) { eachEngine(t, testFindUser) }

func testFindUser(t *testing.T, e *testEngine) {
	ctx := context.Background()
	s := e.open(t)
	fixture(t, s)
	a, err := s.Apply(ctx, &sso.Identity{Issuer: "https://idp", UserID: "sub-1"},
		&sso.Decision{Allow: true, Signup: true, Company: "c1", Role: ptr("admin"), SyncGroups: true, Groups: []string{"Ops", "ML Team"}})
	must(t, err)

	tests := []struct {
		name, issuer, userID string
		want                 *sso.User
	}{
		{"match", "https://idp", "sub-1", &sso.User{ID: a.ID, Company: "c1", Role: "admin", Groups: []string{"ML Team", "Ops"}}},
		{"other issuer", "https://other", "sub-1", nil},
		{"other user id", "https://idp", "SUB-1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.FindUser(ctx, tt.issuer, tt.userID)
			if tt.want == nil {
				if !errors.Is(err, sso.ErrNotFound) || got != nil {
					t.Fatalf("FindUser = %+v, %v; want nil, sso.ErrNotFound", got, err)
				}
				return
			}
			must(t, err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FindUser = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOnChange(t *testing.T) { eachEngine(t, testOnChange) }

func testOnChange(t *testing.T, e *testEngine) {
	ctx := context.Background()
	calls := 0
	var seen *sso.Directory
	var s *Store
	s = e.open(t, OnChange(func() {
		calls++
		// The hook runs after the commit: a snapshot shows the change.
		d, err := s.Snapshot(ctx)
		if err != nil {
			t.Errorf("Snapshot in the hook: %v", err)
		}
		seen = d
	}))

	steps := []struct {
		name    string
		op      func() error
		changes bool
		fails   bool
	}{
		{"add company", func() error { return s.AddCompany(ctx, "c1", "Acme") }, true, false},
		{"failed add company", func() error { return s.AddCompany(ctx, "c1", "Acme") }, false, true},
		{"add group", func() error { return s.AddGroup(ctx, "c1", "Ops") }, true, false},
		{"failed add group", func() error { return s.AddGroup(ctx, "nope", "Ops") }, false, true},
		{"whitelist add", func() error { return s.WhitelistAdd(ctx, "c1", "@acme.com", false) }, true, false},
		{"sign-up", func() error {
			_, err := s.Apply(ctx, &sso.Identity{Issuer: "i", UserID: "u"},
				&sso.Decision{Allow: true, Signup: true, Company: "c1", SyncGroups: true, Groups: []string{"Ops"}})
			return err
		}, false, false},
		{"session", func() error {
			u, err := s.FindUser(ctx, "i", "u")
			if err != nil {
				return err
			}
			_, err = s.CreateSession(ctx, u.ID, time.Hour)
			return err
		}, false, false},
		{"whitelist remove", func() error { return s.WhitelistRemove(ctx, "@acme.com") }, true, false},
		{"remove group", func() error { return s.RemoveGroup(ctx, "c1", "Ops") }, true, false},
	}
	for _, st := range steps {
		before := calls
		err := st.op()
		if (err != nil) != st.fails {
			t.Fatalf("%s: error %v, want failure %v", st.name, err, st.fails)
		}
		if got := calls - before; (got == 1) != st.changes || got > 1 {
			t.Errorf("%s: hook called %d times, want changes=%v", st.name, got, st.changes)
		}
	}
	if seen == nil || len(seen.Companies["c1"].Groups) != 0 {
		t.Errorf("last snapshot seen by the hook = %+v, want c1 without groups", seen)
	}
}
