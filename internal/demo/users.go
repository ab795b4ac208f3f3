package demo

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/pingauthz/pingauthz/internal/pingemu"
)

// The demo directory: one company with two groups, and the Ping group whose
// members are administrators.
const (
	CompanyID   = "c1"
	CompanyName = "Demo Co"
	AdminGroup  = "ClearML-Admins"
	TeamGroup   = "ML Team"
	DataGroup   = "Data"
	// OutsiderGroup is a Ping group that does not exist in the company.
	OutsiderGroup = "Contractors"
)

// CompanyGroups are the groups the demo company has.
var CompanyGroups = []string{TeamGroup, DataGroup}

// Usernames of DefaultUsers.
const (
	Admin    = "alice"
	Member   = "bob"
	Outsider = "carol"
)

// DefaultUsers returns the demo accounts: an administrator (admin group and
// team), a team member, and an outsider in no group the company has, who is
// denied sign-up. The passwords are for a loopback demo only.
func DefaultUsers() []pingemu.User {
	mk := func(user, name string, groups ...string) pingemu.User {
		return pingemu.User{
			Username: user,
			Password: user + "-demo",
			Claims: map[string]any{
				"email":              user + "@example.com",
				"email_verified":     true,
				"name":               name,
				"preferred_username": user,
			},
			Groups: groups,
		}
	}
	return []pingemu.User{
		mk(Admin, "Alice Admin", AdminGroup, TeamGroup),
		mk(Member, "Bob Member", TeamGroup),
		mk(Outsider, "Carol Outsider", OutsiderGroup),
	}
}

// FindUser returns the user named username, or false.
func FindUser(users []pingemu.User, username string) (pingemu.User, bool) {
	i := slices.IndexFunc(users, func(u pingemu.User) bool { return u.Username == username })
	if i < 0 {
		return pingemu.User{}, false
	}
	return users[i], true
}

// PrintAccounts writes a table of the accounts with their passwords, groups
// and what a first login decides (expected, by username; Demo.Expected).
func PrintAccounts(w io.Writer, users []pingemu.User, expected map[string]string) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  USERNAME\tPASSWORD\tPING GROUPS\tFIRST LOGIN")
	for _, u := range users {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", u.Username, u.Password, strings.Join(u.Groups, ", "), expected[u.Username])
	}
	return tw.Flush()
}
