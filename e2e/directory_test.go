package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/store"
)

// loginStatus returns the callback status of a login by username.
func loginStatus(t *testing.T, d *demo.Demo, username string) int {
	t.Helper()
	p, err := newBrowser(t, d).login(username, "")
	if err != nil {
		t.Fatal(err)
	}
	return p.status
}

// TestDirectoryChangeReachesPlugin checks that the decisions follow the
// directory: a group added through the server's store counts at once, and
// one added by another writer of the database (as `pingauthz admin` does)
// counts once the server has seen it: after the next poll of the SQLite
// file, or at the PostgreSQL notification.
func TestDirectoryChangeReachesPlugin(t *testing.T) {
	engines(t, func(t *testing.T, db string) {
		ctx := context.Background()
		d := startDemo(t, demo.Options{DBPath: db, DirectoryPoll: 100 * time.Millisecond})
		if s := loginStatus(t, d, demo.Outsider); s != http.StatusForbidden {
			t.Fatalf("outsider before the change: status %d, want 403", s)
		}

		t.Run("change through the server's store", func(t *testing.T) {
			if err := d.Server.Store.AddGroup(ctx, demo.CompanyID, demo.OutsiderGroup); err != nil {
				t.Fatal(err)
			}
			a := newBrowser(t, d).mustLogin(demo.Outsider)
			if !slices.Equal(a.Groups, []string{demo.OutsiderGroup}) {
				t.Errorf("groups %v, want [%s]", a.Groups, demo.OutsiderGroup)
			}
		})

		t.Run("change by another writer", func(t *testing.T) {
			other, err := store.Open(ctx, d.DBPath)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if err := d.IdP.SetUserGroups(demo.Member, []string{"Interns"}); err != nil {
				t.Fatal(err)
			}
			// bob has no account yet: with no known group he may not sign up.
			if s := loginStatus(t, d, demo.Member); s != http.StatusForbidden {
				t.Fatalf("bob before the change: status %d, want 403", s)
			}
			if err := other.AddGroup(ctx, demo.CompanyID, "Interns"); err != nil {
				t.Fatal(err)
			}
			err = retry(time.Minute, func() error {
				if s := loginStatus(t, d, demo.Member); s != http.StatusSeeOther {
					return fmt.Errorf("status %d", s)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("bob never signed up after the group was added elsewhere: %v", err)
			}
		})
	})
}
