package e2e_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/demo"
)

// TestLoginFlows logs the three demo users in over HTTP and checks what the
// server made of each, then demotes the administrator at the provider.
func TestLoginFlows(t *testing.T) {
	engines(t, func(t *testing.T, db string) {
		d := startDemo(t, demo.Options{DBPath: db})

		tests := []struct {
			user   string
			role   string
			groups []string
		}{
			{demo.Admin, "admin", []string{demo.TeamGroup}},
			{demo.Member, "user", []string{demo.TeamGroup}},
		}
		for _, tt := range tests {
			t.Run(tt.user, func(t *testing.T) {
				a := newBrowser(t, d).mustLogin(tt.user)
				if a.Role != tt.role || !slices.Equal(a.Groups, tt.groups) || a.Company != demo.CompanyID ||
					a.Email != tt.user+"@example.com" {
					t.Errorf("account %+v, want role %s, groups %v in %s", a, tt.role, tt.groups, demo.CompanyID)
				}
			})
		}

		t.Run("outsider is denied", func(t *testing.T) {
			before := dump(t, d.DBPath)
			b := newBrowser(t, d)
			p, err := b.login(demo.Outsider, "")
			if err != nil {
				t.Fatal(err)
			}
			if p.status != http.StatusForbidden || !strings.Contains(p.body, `id="reasons"`) ||
				!strings.Contains(p.body, "deny:not_in_group") {
				t.Fatalf("callback status %d, want 403 with reason deny:not_in_group:\n%s", p.status, p.body)
			}
			if _, err := b.me(); err == nil {
				t.Error("the denied user has a session")
			}
			sameDump(t, before, dump(t, d.DBPath))
		})

		t.Run("admin is demoted when the admin group is removed", func(t *testing.T) {
			if err := d.IdP.SetUserGroups(demo.Admin, []string{demo.TeamGroup}); err != nil {
				t.Fatal(err)
			}
			a := newBrowser(t, d).mustLogin(demo.Admin)
			if a.Role != "user" || !slices.Equal(a.Groups, []string{demo.TeamGroup}) {
				t.Errorf("account %+v, want role user in %s", a, demo.TeamGroup)
			}
		})

		users, err := d.Server.Store.Users(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != 2 {
			t.Errorf("users %+v, want alice and bob only", users)
		}
	})
}

// TestMembershipSync checks which memberships a login adds and removes: an
// administrator's grant survives, an SSO one goes when Ping stops sending the
// group, and an existing user with no known group still logs in although
// sign-up requires one.
func TestMembershipSync(t *testing.T) {
	engines(t, func(t *testing.T, db string) {
		d := startDemo(t, demo.Options{DBPath: db})
		ctx := context.Background()
		st := d.Server.Store

		bob := newBrowser(t, d).mustLogin(demo.Member)
		if !slices.Equal(bob.Groups, []string{demo.TeamGroup}) {
			t.Fatalf("first login: groups %v", bob.Groups)
		}
		if err := st.AddMembership(ctx, demo.CompanyID, bob.ID, demo.DataGroup); err != nil {
			t.Fatal(err)
		}

		t.Run("manual membership survives a login", func(t *testing.T) {
			a := newBrowser(t, d).mustLogin(demo.Member)
			if want := []string{demo.DataGroup, demo.TeamGroup}; !slices.Equal(a.Groups, want) {
				t.Errorf("groups %v, want %v", a.Groups, want)
			}
		})

		t.Run("SSO membership goes when Ping stops sending the group", func(t *testing.T) {
			if err := d.IdP.SetUserGroups(demo.Member, []string{demo.OutsiderGroup}); err != nil {
				t.Fatal(err)
			}
			// The prohibit flag only gates sign-up: bob exists, so he logs in.
			a := newBrowser(t, d).mustLogin(demo.Member)
			if a.ID != bob.ID || a.Role != "user" || !slices.Equal(a.Groups, []string{demo.DataGroup}) {
				t.Errorf("account %+v, want %s with only the manual group %s", a, bob.ID, demo.DataGroup)
			}
		})

		t.Run("SSO membership comes back with the group", func(t *testing.T) {
			if err := d.IdP.SetUserGroups(demo.Member, []string{demo.TeamGroup, demo.DataGroup}); err != nil {
				t.Fatal(err)
			}
			a := newBrowser(t, d).mustLogin(demo.Member)
			if want := []string{demo.DataGroup, demo.TeamGroup}; !slices.Equal(a.Groups, want) {
				t.Errorf("groups %v, want %v", a.Groups, want)
			}
			// Data stays an administrator's grant: dropping it from Ping keeps it.
			if err := d.IdP.SetUserGroups(demo.Member, nil); err != nil {
				t.Fatal(err)
			}
			a = newBrowser(t, d).mustLogin(demo.Member)
			if want := []string{demo.DataGroup}; !slices.Equal(a.Groups, want) {
				t.Errorf("groups %v, want %v", a.Groups, want)
			}
		})
	})
}

// TestReturnTo checks that a login returns to the local path it started from
// and that a foreign return path ends at "/".
func TestReturnTo(t *testing.T) {
	engines(t, func(t *testing.T, db string) {
		d := startDemo(t, demo.Options{DBPath: db})
		newBrowser(t, d).mustLogin(demo.Member) // bob exists from here on
		tests := []struct {
			returnTo, want string
		}{
			{"/projects?x=1", "/projects?x=1"},
			{"https://evil.example/", "/"},
			{"//evil.example/path", "/"},
			{"/\\evil.example", "/"},
			{"/./\\evil.example", "/"},
			{"/a/../\\evil.example", "/"},
		}
		for _, tt := range tests {
			t.Run(tt.returnTo, func(t *testing.T) {
				p, err := newBrowser(t, d).login(demo.Member, tt.returnTo)
				if err != nil {
					t.Fatal(err)
				}
				if p.status != http.StatusSeeOther || p.location != tt.want {
					t.Errorf("callback status %d location %q, want 303 to %q", p.status, p.location, tt.want)
				}
			})
		}
	})
}
