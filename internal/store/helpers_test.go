package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/internal/testutil"
)

// newClock returns a settable time source for WithNow.
func newClock() *testutil.Clock {
	return testutil.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
}

// openTest opens a store on a new file in a temporary directory and closes
// it when the test ends.
func openTest(t testing.TB, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "dir.db"), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// fixture fills a store with two companies and their groups:
// c1 "Acme" {Admins, ML Team, Ops} and c2 "Other" {ML Team}.
// companyNames are the companies fixture adds.
var companyNames = map[string]string{"c1": "Acme", "c2": "Other"}

func fixture(t testing.TB, s *Store) {
	t.Helper()
	ctx := context.Background()
	must(t, s.AddCompany(ctx, "c1", companyNames["c1"]))
	must(t, s.AddCompany(ctx, "c2", companyNames["c2"]))
	for _, g := range []string{"ML Team", "Ops", "Admins"} {
		must(t, s.AddGroup(ctx, "c1", g))
	}
	must(t, s.AddGroup(ctx, "c2", "ML Team"))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// dump renders the schema version and every row of every table, in rowid
// order, so that two dumps are equal exactly when the data is.
func dump(t testing.TB, s *Store) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	var version int
	must(t, s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version))
	fmt.Fprintf(&b, "user_version %d\n", version)

	rows, err := s.w.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	must(t, err)
	var tables []string
	for rows.Next() {
		var name string
		must(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	must(t, rows.Err())
	must(t, rows.Close())

	for _, table := range tables {
		fmt.Fprintf(&b, "table %s\n", table)
		rows, err := s.w.QueryContext(ctx, fmt.Sprintf("SELECT * FROM %q ORDER BY rowid", table))
		must(t, err)
		cols, err := rows.Columns()
		must(t, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			must(t, rows.Scan(ptrs...))
			fmt.Fprintf(&b, "  %v\n", vals)
		}
		must(t, rows.Err())
		must(t, rows.Close())
	}
	return b.String()
}

// sources returns the user's memberships as group name -> source.
func sources(t testing.TB, s *Store, userID string) map[string]string {
	t.Helper()
	rows, err := s.w.QueryContext(context.Background(), `
SELECT g.name, m.source FROM memberships m JOIN groups g ON g.id = m.group_id WHERE m.user = ?`, userID)
	must(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var g, src string
		must(t, rows.Scan(&g, &src))
		out[g] = src
	}
	must(t, rows.Err())
	return out
}

// count returns the number of rows of a table.
func count(t testing.TB, s *Store, table string) int {
	t.Helper()
	var n int
	must(t, s.w.QueryRowContext(context.Background(), fmt.Sprintf("SELECT count(*) FROM %q", table)).Scan(&n))
	return n
}
