package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/internal/store/storetest"
	"github.com/pingauthz/pingauthz/internal/testutil"
)

// testEngine opens stores of one engine for the tests that every engine
// must pass.
type testEngine struct {
	name string
	// newDB returns a new, empty database: a SQLite file, or a PostgreSQL
	// URL whose search_path is a new schema, dropped when the test ends.
	newDB func(t testing.TB) string
}

// eachEngine runs fn once on SQLite and once on PostgreSQL, as subtests
// named after the engine. Without PostgreSQL the second run skips, saying
// how to run it; with PINGAUTHZ_REQUIRE_POSTGRES=1 it fails.
func eachEngine(t *testing.T, fn func(t *testing.T, e *testEngine)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, sqliteTest) })
	t.Run("postgres", func(t *testing.T) { fn(t, postgresTest(t)) })
}

var sqliteTest = &testEngine{
	name: "sqlite",
	newDB: func(t testing.TB) string {
		return filepath.Join(t.TempDir(), "dir.db")
	},
}

// postgresTest returns the PostgreSQL test engine, or skips (fails when
// PostgreSQL is required) when none is configured (see storetest).
func postgresTest(t testing.TB) *testEngine {
	t.Helper()
	storetest.NeedPostgres(t)
	return &testEngine{name: "postgres", newDB: storetest.PostgresURL}
}

// open opens a store on a new database and closes it when the test ends.
func (e *testEngine) open(t testing.TB, opts ...Option) *Store {
	t.Helper()
	return e.openAt(t, e.newDB(t), opts...)
}

// openAt opens a store on db and closes it when the test ends.
func (e *testEngine) openAt(t testing.TB, db string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), db, opts...)
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

// refuse makes the database refuse the statements of a kind on a table,
// e.g. ("INSERT", "sessions"), with the error message msg.
func refuse(t testing.TB, s *Store, op, table, msg string) {
	t.Helper()
	var stmts []string
	if s.Engine() == "postgres" {
		fn := "refuse_" + strings.ToLower(op) + "_" + table
		stmts = []string{
			fmt.Sprintf(`CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '%s'; END $$`, fn, msg),
			fmt.Sprintf(`CREATE TRIGGER %s BEFORE %s ON %s FOR EACH ROW EXECUTE FUNCTION %s()`, fn, op, table, fn),
		}
	} else {
		stmts = []string{fmt.Sprintf(`CREATE TRIGGER refuse_%s_%s BEFORE %s ON %s BEGIN SELECT RAISE(ABORT, '%s'); END`,
			op, table, op, table, msg)}
	}
	for _, q := range stmts {
		if _, err := s.w.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// newClock returns a settable time source for WithNow.
func newClock() *testutil.Clock {
	return testutil.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
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

// dump renders every row of every table, each table's rows sorted, so that
// two dumps of one store are equal exactly when the data is.
func dump(t testing.TB, s *Store) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	list := "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
	if s.Engine() == "postgres" {
		list = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name"
	}
	rows, err := s.w.QueryContext(ctx, list)
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
		rows, err := s.w.QueryContext(ctx, fmt.Sprintf("SELECT * FROM %q", table))
		must(t, err)
		cols, err := rows.Columns()
		must(t, err)
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			must(t, rows.Scan(ptrs...))
			lines = append(lines, fmt.Sprintf("  %v\n", vals))
		}
		must(t, rows.Err())
		must(t, rows.Close())
		slices.Sort(lines)
		b.WriteString(strings.Join(lines, ""))
	}
	return b.String()
}

// sources returns the user's memberships as group name -> source.
func sources(t testing.TB, s *Store, userID string) map[string]string {
	t.Helper()
	rows, err := s.w.QueryContext(context.Background(), s.eng.rebind(`
SELECT g.name, m.source FROM memberships m JOIN groups g ON g.id = m.group_id WHERE m."user" = ?`), userID)
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

// queryInt runs a query written with ? placeholders that returns one
// integer.
func queryInt(t testing.TB, s *Store, q string, args ...any) int64 {
	t.Helper()
	var n int64
	must(t, s.w.QueryRowContext(context.Background(), s.eng.rebind(q), args...).Scan(&n))
	return n
}
