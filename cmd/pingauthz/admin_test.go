package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/internal/store"
	"github.com/pingauthz/pingauthz/internal/store/storetest"
)

// admin runs `pingauthz admin --db db args...`.
func admin(t *testing.T, db string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return cli(t, nil, "", append([]string{"admin", "--db", db}, args...)...)
}

func TestAdminUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"admin"}, "want a command"},
		{[]string{"admin", "company", "list"}, "--db is required"},
		{[]string{"admin", "--db", db}, "want a command"},
		{[]string{"admin", "--db", db, "company"}, "want a command"},
		{[]string{"admin", "--db", db, "company", "fly"}, `unknown command "company fly"`},
		{[]string{"admin", "--db", db, "company", "add"}, "want ID, got 0"},
		{[]string{"admin", "--db", db, "company", "add", "a", "b"}, "want ID, got 2"},
		{[]string{"admin", "--db", db, "company", "add", "--nme", "x", "c1"}, "flag provided but not defined: -nme"},
		{[]string{"admin", "--db", db, "group", "add", "ML Team"}, "group add: --company is required"},
		{[]string{"admin", "--db", db, "group", "rm", "--company", "c1"}, "want NAME"},
		{[]string{"admin", "--db", db, "whitelist", "add", "a@example.com"}, "whitelist add: --company is required"},
		{[]string{"admin", "--db", db, "whitelist", "rm", "--admin", "a@example.com"}, "flag provided but not defined: -admin"},
		{[]string{"admin", "--db", db, "membership", "add", "--company", "c1", "Data"}, "--user is required"},
		{[]string{"admin", "--db", db, "membership", "add", "--user", "u", "Data"}, "--company is required"},
		{[]string{"admin", "--db", db, "user", "list", "x"}, "want no arguments"},
	} {
		t.Run(strings.ReplaceAll(strings.Join(tc.args, " "), db, "DB"), func(t *testing.T) {
			code, _, stderr := cli(t, nil, "", tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d (want 2), stderr %q (want %q)", code, stderr, tc.want)
			}
		})
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a usage error created the database: %v", err)
	}
}

func TestAdminReadOnlyNeedsDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "missing.db")
	for _, args := range [][]string{{"user", "list"}, {"company", "list"}} {
		code, _, stderr := admin(t, db, args...)
		if code != 1 || !strings.Contains(stderr, db) {
			t.Errorf("%v: exit %d, stderr %q; want 1 naming the file", args, code, stderr)
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a read-only command created the database: %v", err)
	}
}

// signUp creates a user as a login would.
func signUp(t *testing.T, db, email string, groups ...string) *sso.Account {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	role := "user"
	a, err := st.Apply(ctx,
		&sso.Identity{Issuer: "https://idp.example", Subject: email, UserID: email, Email: email, Name: email},
		&sso.Decision{Allow: true, Signup: true, Company: "c1", Role: &role, SyncGroups: true, Groups: groups})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustAdmin(t *testing.T, db string, args ...string) string {
	t.Helper()
	code, stdout, stderr := admin(t, db, args...)
	if code != 0 {
		t.Fatalf("admin %v: exit %d, stderr %q", args, code, stderr)
	}
	return stdout
}

func TestAdminDirectory(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	_, _, stderr := admin(t, db, "company", "add", "c1", "--name", "Demo Co")
	if !strings.Contains(stderr, "creating the database") {
		t.Errorf("no note about the new database: %q", stderr)
	}
	mustAdmin(t, db, "company", "add", "c2")
	mustAdmin(t, db, "group", "add", "--company", "c1", "ML Team")
	mustAdmin(t, db, "group", "add", "Data", "--company", "c1") // flags after the name
	mustAdmin(t, db, "group", "add", "--company", "c1", "--", "-odd-")
	mustAdmin(t, db, "group", "rm", "--company", "c1", "--", "-odd-")
	mustAdmin(t, db, "whitelist", "add", "--company", "c1", "--admin", "Boss@Example.com")
	mustAdmin(t, db, "whitelist", "add", "--company", "c2", "@example.org")

	t.Run("errors from the store", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"company", "add", "c1"}, "c1"},
			{[]string{"group", "add", "--company", "nope", "X"}, "nope"},
			{[]string{"group", "rm", "--company", "c1", "Nope"}, "Nope"},
			{[]string{"whitelist", "add", "--company", "c1", "not-an-email"}, "not-an-email"},
			{[]string{"whitelist", "add", "--company", "c1", "admİn@example.com"}, `the part before "@" is not ASCII`},
			{[]string{"whitelist", "rm", "--company", "c1", "@example.org"}, "belongs to company c2"},
			{[]string{"whitelist", "rm", "nobody@example.net"}, "nobody@example.net"},
		} {
			code, _, stderr := admin(t, db, tc.args...)
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("%v: exit %d, stderr %q; want 1 naming %q", tc.args, code, stderr, tc.want)
			}
		}
	})

	out := mustAdmin(t, db, "company", "list")
	if !strings.Contains(out, "c1") || !strings.Contains(out, "Demo Co") || !strings.Contains(out, "Data, ML Team") {
		t.Errorf("company list:\n%s", out)
	}
	var companies []store.CompanyInfo
	if err := json.Unmarshal([]byte(mustAdmin(t, db, "company", "list", "--json")), &companies); err != nil {
		t.Fatal(err)
	}
	if want := []store.CompanyInfo{{ID: "c1", Name: "Demo Co", Groups: []string{"Data", "ML Team"}}, {ID: "c2", Name: "c2", Groups: []string{}}}; !reflect.DeepEqual(companies, want) {
		t.Errorf("company list --json: %+v, want %+v", companies, want)
	}
	var wl []whitelistRow
	if err := json.Unmarshal([]byte(mustAdmin(t, db, "whitelist", "list", "--json")), &wl); err != nil {
		t.Fatal(err)
	}
	if want := []whitelistRow{{"@example.org", "c2", false}, {"boss@example.com", "c1", true}}; !reflect.DeepEqual(wl, want) {
		t.Errorf("whitelist list --json: %+v, want %+v", wl, want)
	}
	if out := mustAdmin(t, db, "whitelist", "list", "--company", "c1"); !strings.Contains(out, "boss@example.com  c1       admin") ||
		strings.Contains(out, "example.org") {
		t.Errorf("whitelist list --company c1:\n%s", out)
	}
	if out := mustAdmin(t, db, "group", "list"); !strings.Contains(out, "COMPANY  GROUP    MEMBERS\nc1       Data     0\nc1       ML Team  0\n") {
		t.Errorf("group list:\n%s", out)
	}
	mustAdmin(t, db, "whitelist", "rm", "--company", "c2", "@example.org")
	mustAdmin(t, db, "whitelist", "rm", "boss@example.com")
	if err := json.Unmarshal([]byte(mustAdmin(t, db, "whitelist", "list", "--json")), &wl); err != nil || len(wl) != 0 {
		t.Errorf("whitelist left after rm: %+v, %v", wl, err)
	}
}

func TestAdminUsersAndMemberships(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	mustAdmin(t, db, "company", "add", "c1")
	mustAdmin(t, db, "group", "add", "--company", "c1", "ML Team")
	mustAdmin(t, db, "group", "add", "--company", "c1", "Data")

	var users []sso.Account
	if err := json.Unmarshal([]byte(mustAdmin(t, db, "user", "list", "--json")), &users); err != nil || users == nil || len(users) != 0 {
		t.Fatalf("user list --json on no users: %v, %v (want [])", users, err)
	}

	bob := signUp(t, db, "bob@example.com", "ML Team")
	mustAdmin(t, db, "membership", "add", "--company", "c1", "--user", "BOB@example.com", "Data")
	if err := json.Unmarshal([]byte(mustAdmin(t, db, "user", "list", "--json")), &users); err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0].ID != bob.ID || !slices.Equal(users[0].Groups, []string{"Data", "ML Team"}) {
		t.Errorf("user list --json: %+v", users)
	}
	table := mustAdmin(t, db, "user", "list")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[1], bob.ID) ||
		!strings.Contains(lines[1], "bob@example.com") || !strings.Contains(lines[1], "Data, ML Team") {
		t.Errorf("user list:\n%s", table)
	}

	// A login that no longer sends Data keeps the manual membership.
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Apply(ctx, &sso.Identity{Issuer: "https://idp.example", Subject: "bob@example.com", UserID: "bob@example.com"},
		&sso.Decision{Allow: true, Company: "c1", SyncGroups: true})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Groups, []string{"Data"}) {
		t.Errorf("groups after a login without groups: %v, want [Data]", a.Groups)
	}

	mustAdmin(t, db, "membership", "rm", "--company", "c1", "--user", bob.ID, "Data")

	// An email names a user under the ASCII-only rule: KELVIN SIGN is not k.
	kate := signUp(t, db, "\u212Aate@example.com")
	if _, _, stderr := admin(t, db, "membership", "add", "--company", "c1", "--user", "kate@example.com", "Data"); !strings.Contains(stderr, "no user has the email") {
		t.Errorf("membership for kate@example.com: %q, want no user (only %s exists)", stderr, kate.Email)
	}
	mustAdmin(t, db, "membership", "add", "--company", "c1", "--user", "\u212AATE@EXAMPLE.COM", "Data")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"membership", "add", "--company", "c1", "--user", "nobody@example.com", "Data"}, "no user has the email"},
		{[]string{"membership", "add", "--company", "c1", "--user", "no-such-id", "Data"}, "no-such-id"},
		{[]string{"membership", "add", "--company", "c1", "--user", bob.ID, "Nope"}, "Nope"},
		{[]string{"membership", "rm", "--company", "c1", "--user", bob.ID, "Data"}, "Data"},
	} {
		code, _, stderr := admin(t, db, tc.args...)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 naming %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestAdminFailedCommandLeavesNoDatabase runs failing write commands on a
// database path that does not exist yet: no file is left behind. A failed
// command on an existing database keeps it.
func TestAdminFailedCommandLeavesNoDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "new.db")
	for _, args := range [][]string{
		{"group", "add", "--company", "nope", "X"},
		{"whitelist", "add", "--company", "nope", "a@example.com"},
		{"membership", "add", "--company", "nope", "--user", "u", "G"},
	} {
		code, _, stderr := admin(t, db, args...)
		if code != 1 || !strings.Contains(stderr, "nope") {
			t.Errorf("%v: exit %d, stderr %q; want 1 naming nope", args, code, stderr)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			t.Errorf("%v left %s behind", args, e.Name())
		}
	}
	mustAdmin(t, db, "company", "add", "c1")
	if code, _, _ := admin(t, db, "group", "add", "--company", "nope", "X"); code != 1 {
		t.Errorf("group add in a missing company: exit %d, want 1", code)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("a failed command removed an existing database: %v", err)
	}
}

// TestAdminWhitelistForm checks that whitelist add stores an entry in the
// form the relying party compares: ASCII letters lower-cased, the domain an
// A-label.
func TestAdminWhitelistForm(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	mustAdmin(t, db, "company", "add", "c1")
	if out := mustAdmin(t, db, "whitelist", "add", "--company", "c1", "Kate@Bücher.Example"); out != "whitelist kate@xn--bcher-kva.example -> company c1 (user)\n" {
		t.Errorf("whitelist add: %q", out)
	}
	mustAdmin(t, db, "whitelist", "add", "--company", "c1", "@Bücher.Example")
	if out := mustAdmin(t, db, "whitelist", "list"); !strings.Contains(out, "@xn--bcher-kva.example") || !strings.Contains(out, "kate@xn--bcher-kva.example") {
		t.Errorf("whitelist list:\n%s", out)
	}
	mustAdmin(t, db, "whitelist", "rm", "KATE@bücher.example")
	if out := mustAdmin(t, db, "whitelist", "list"); strings.Contains(out, "kate@") {
		t.Errorf("whitelist list after rm:\n%s", out)
	}
}

func TestAdminCompanyRm(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	mustAdmin(t, db, "company", "add", "c1")
	mustAdmin(t, db, "company", "add", "c2")
	mustAdmin(t, db, "group", "add", "--company", "c2", "G")
	mustAdmin(t, db, "whitelist", "add", "--company", "c2", "@c2.example")
	signUp(t, db, "bob@example.com")

	code, _, stderr := admin(t, db, "company", "rm", "c1")
	if code != 1 || !strings.Contains(stderr, "company c1 still has 1 user(s)") {
		t.Errorf("company rm of a company with a user: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := admin(t, db, "company", "rm", "nope"); code != 1 || !strings.Contains(stderr, `company "nope" not found`) {
		t.Errorf("company rm of an unknown company: exit %d, stderr %q", code, stderr)
	}
	if out := mustAdmin(t, db, "company", "rm", "c2"); !strings.Contains(out, "company c2 removed") {
		t.Errorf("company rm c2: %q", out)
	}
	out := mustAdmin(t, db, "company", "list")
	if !strings.Contains(out, "c1") || strings.Contains(out, "c2") {
		t.Errorf("company list after rm:\n%s", out)
	}
	if out := mustAdmin(t, db, "whitelist", "list"); strings.Contains(out, "c2") {
		t.Errorf("whitelist list after rm:\n%s", out)
	}
}

// TestAdminHelp checks that the admin command and each of its commands
// answer -h and --help with their usage on stdout and exit 0, with or
// without --db, and touch no database.
func TestAdminHelp(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	type line struct {
		args     []string
		synopsis string // what the usage names; "" for the admin usage
	}
	lines := []line{{[]string{"admin"}, ""}, {[]string{"admin", "company"}, ""}, {[]string{"admin", "--db", db}, ""}}
	for _, c := range adminCommands() {
		name := strings.Fields(c.name)
		lines = append(lines, line{append([]string{"admin"}, name...), c.name},
			line{append([]string{"admin", "--db", db}, name...), c.name})
	}
	for _, l := range lines {
		for _, h := range []string{"-h", "--help"} {
			args := append(slices.Clone(l.args), h)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, stdout, stderr := cli(t, nil, "", args...)
				if code != 0 || !strings.HasPrefix(stdout, "Usage: pingauthz admin") || stderr != "" {
					t.Errorf("exit %d, stdout %q, stderr %q; want 0 and the usage on stdout", code, stdout, stderr)
				}
				first, _, _ := strings.Cut(stdout, "\n")
				if l.synopsis != "" && (!strings.Contains(first, " "+l.synopsis) || !strings.Contains(stdout, "-db")) {
					t.Errorf("usage %q: its first line does not name %q, or it lacks -db", stdout, l.synopsis)
				}
			})
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("help created the database: %v", err)
	}
}

// TestAdminMoveBetweenEngines moves a directory from a SQLite file to
// PostgreSQL and back with export and import: users, groups and sessions
// come through, and migrate reports the schema version on both.
func TestAdminMoveBetweenEngines(t *testing.T) {
	dir := t.TempDir()
	sqlite := filepath.Join(dir, "a.db")
	mustAdmin(t, sqlite, "company", "add", "c1")
	mustAdmin(t, sqlite, "group", "add", "--company", "c1", "ML Team")
	mustAdmin(t, sqlite, "whitelist", "add", "--company", "c1", "@example.com")
	bob := signUp(t, sqlite, "bob@example.com", "ML Team")
	want := fmt.Sprintf("schema version %d (sqlite): up to date\n", store.KnownSchemaVersion())
	if out := mustAdmin(t, sqlite, "migrate"); out != want {
		t.Errorf("migrate: %q, want %q", out, want)
	}

	pg := storetest.PostgresURL(t)
	dump := mustAdmin(t, sqlite, "export")
	code, out, stderr := cli(t, nil, dump, "admin", "import", "--db", pg)
	if code != 0 || !strings.Contains(out, "imported 1 companies, 1 groups, 1 whitelist entries, 1 users, 1 memberships, 0 sessions") {
		t.Fatalf("import into PostgreSQL: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if out := mustAdmin(t, pg, "migrate"); !strings.Contains(out, "(postgres): up to date") {
		t.Errorf("migrate on PostgreSQL: %q", out)
	}
	if got := mustAdmin(t, pg, "export"); got != dump {
		t.Errorf("PostgreSQL exports\n%s\nwant\n%s", got, dump)
	}
	if out := mustAdmin(t, pg, "user", "list"); !strings.Contains(out, bob.ID) || !strings.Contains(out, "ML Team") {
		t.Errorf("user list on PostgreSQL:\n%s", out)
	}

	back := filepath.Join(dir, "b.db")
	if code, _, stderr := cli(t, nil, mustAdmin(t, pg, "export", "--no-sessions"), "admin", "--db", back, "import"); code != 0 {
		t.Fatalf("import back into SQLite: exit %d, stderr %q", code, stderr)
	}
	if got := mustAdmin(t, back, "export"); got != dump {
		t.Errorf("the SQLite copy exports\n%s\nwant\n%s", got, dump)
	}
	// A second import is refused; a broken dump creates no file.
	if code, _, stderr := cli(t, nil, dump, "admin", "--db", back, "import"); code != 1 || !strings.Contains(stderr, "already holds a directory") {
		t.Errorf("import into a full database: exit %d, stderr %q", code, stderr)
	}
	broken := filepath.Join(dir, "c.db")
	if code, _, stderr := cli(t, nil, `{"format": "nope"}`, "admin", "--db", broken, "import"); code != 1 || !strings.Contains(stderr, `format "nope"`) {
		t.Errorf("import of a broken dump: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(broken); !os.IsNotExist(err) {
		t.Errorf("a failed import left %s: %v", broken, err)
	}
}
