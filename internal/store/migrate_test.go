package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rawDB opens a plain connection to a database file, as an older program
// would have.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
	must(t, err)
	db.SetMaxOpenConns(1)
	return db
}

func TestOpenPragmas(t *testing.T) {
	s := sqliteTest.open(t)
	ctx := context.Background()
	for _, pool := range []struct {
		name string
		db   *sql.DB
	}{{"writer", s.w}, {"reader", s.r}} {
		t.Run(pool.name, func(t *testing.T) {
			for _, p := range []struct{ pragma, want string }{
				{"journal_mode", "wal"},
				{"foreign_keys", "1"},
				{"busy_timeout", "5000"},
				{"user_version", strconv.Itoa(len(sqliteMigrations))},
			} {
				var got string
				must(t, pool.db.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(&got))
				if got != p.want {
					t.Errorf("PRAGMA %s = %q, want %q", p.pragma, got, p.want)
				}
			}
		})
	}
	if _, err := s.r.ExecContext(ctx, "INSERT INTO companies (id, name) VALUES ('x', 'X')"); err == nil {
		t.Error("the read pool accepted a write")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain-file")
	must(t, os.WriteFile(file, nil, 0o644))
	tests := []struct {
		name, path, want string
	}{
		{"empty", "", "database path is empty"},
		{"memory", ":memory:", "want a file path"},
		{"uri", "file:x.db", "want a file path"},
		{"missing directory", filepath.Join(dir, "no", "such", "dir.db"), "its directory: stat " + filepath.Join(dir, "no", "such") + ": no such file"},
		{"file as directory", filepath.Join(file, "dir.db"), file + " is not a directory"},
		{"directory", dir, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), tt.path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestOpenOddPath(t *testing.T) {
	// '?' and '#' in a path are part of the file name, not parameters.
	path := filepath.Join(t.TempDir(), "a?b#c.db")
	s, err := Open(context.Background(), path)
	must(t, err)
	must(t, s.AddCompany(context.Background(), "c1", "Acme"))
	must(t, s.Close())
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at %s: %v", path, err)
	}
	s, err = Open(context.Background(), path)
	must(t, err)
	defer s.Close()
	d, err := s.Snapshot(context.Background())
	must(t, err)
	if _, ok := d.Companies["c1"]; !ok {
		t.Errorf("reopened database lost company c1: %+v", d)
	}
}

func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db := rawDB(t, path)
	_, err := migrateSQLite(ctx, db, sqliteMigrations[:1])
	must(t, err)
	for _, q := range []string{
		"INSERT INTO companies (id, name) VALUES ('c1', 'Acme')",
		"INSERT INTO groups (company, name) VALUES ('c1', 'ML Team')",
		`INSERT INTO users (id, issuer, user_id, email, name, company, role, created_at, last_login)
		 VALUES ('u1', 'https://idp', 'sub-1', 'a@x.com', 'A', 'c1', 'admin', 1, 1)`,
		"INSERT INTO memberships (user, group_id, source) VALUES ('u1', 1, 'sso')",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var v int
	must(t, db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v))
	if v != 1 {
		t.Fatalf("user_version = %d after the first migration, want 1", v)
	}
	if _, err := db.ExecContext(ctx, "SELECT 1 FROM sessions"); err == nil {
		t.Fatal("version 1 already has sessions")
	}
	must(t, db.Close())

	s, err := Open(ctx, path)
	must(t, err)
	defer s.Close()
	must(t, s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v))
	if v != len(sqliteMigrations) {
		t.Errorf("user_version = %d, want %d", v, len(sqliteMigrations))
	}
	u, err := s.FindUser(ctx, "https://idp", "sub-1")
	must(t, err)
	if u.ID != "u1" || u.Company != "c1" || u.Role != "admin" || len(u.Groups) != 1 || u.Groups[0] != "ML Team" {
		t.Errorf("user after migration = %+v", u)
	}
	tok, err := s.CreateSession(ctx, "u1", time.Hour)
	must(t, err)
	if _, err := s.SessionAccount(ctx, tok); err != nil {
		t.Errorf("session on a migrated database: %v", err)
	}
}

func TestMigrateRefusesNewer(t *testing.T) { eachEngine(t, testMigrateRefusesNewer) }

func testMigrateRefusesNewer(t *testing.T, e *testEngine) {
	ctx := context.Background()
	db := e.newDB(t)
	s, err := Open(ctx, db)
	must(t, err)
	if from, to := s.Migrated(); from != 0 || to != KnownSchemaVersion() {
		t.Errorf("Migrated() = %d, %d on a new database; want 0, %d", from, to, KnownSchemaVersion())
	}
	q := "PRAGMA user_version = 99"
	if s.Engine() == "postgres" {
		q = "UPDATE schema_version SET version = 99"
	}
	_, err = s.w.ExecContext(ctx, q)
	must(t, err)
	must(t, s.Close())
	s, err = Open(ctx, db)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a newer schema")
	}
	var ve *SchemaVersionError
	if !errors.As(err, &ve) || ve.Have != 99 || ve.Known != KnownSchemaVersion() {
		t.Errorf("error = %v, want a SchemaVersionError{99, %d}", err, KnownSchemaVersion())
	}
}

// TestMigrationsMatch checks that both engines know the same versions.
func TestMigrationsMatch(t *testing.T) {
	if len(postgresMigrations) != len(sqliteMigrations) {
		t.Errorf("%d PostgreSQL migrations, %d SQLite ones: version n must be the same schema on both",
			len(postgresMigrations), len(sqliteMigrations))
	}
}

func TestMigrateAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := rawDB(t, filepath.Join(t.TempDir(), "broken.db"))
	defer db.Close()
	steps := []string{sqliteMigrations[0], "CREATE TABLE extra (id INTEGER PRIMARY KEY);", "CREATE TABLE broken ("}
	_, err := migrateSQLite(ctx, db, steps)
	if err == nil || !strings.Contains(err.Error(), "schema version 3") {
		t.Fatalf("migrate error = %v, want one naming schema version 3", err)
	}
	var v, tables int
	must(t, db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v))
	must(t, db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&tables))
	if v != 0 || tables != 0 {
		t.Errorf("after a failed migration: user_version %d, %d schema objects; want 0, 0", v, tables)
	}
}

func TestReopen(t *testing.T) { eachEngine(t, testReopen) }

func testReopen(t *testing.T, e *testEngine) {
	ctx := context.Background()
	path := e.newDB(t)
	for i := range 3 {
		s, err := Open(ctx, path)
		if from, _ := s.Migrated(); err == nil && i > 0 && from != KnownSchemaVersion() {
			t.Errorf("open %d found schema version %d, want %d", i, from, KnownSchemaVersion())
		}
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := s.AddCompany(ctx, string(rune('a'+i)), "C"); err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		must(t, s.Close())
	}
	s, err := Open(ctx, path)
	must(t, err)
	defer s.Close()
	d, err := s.Snapshot(ctx)
	must(t, err)
	if len(d.Companies) != 3 {
		t.Errorf("companies after reopening = %v, want 3", d.Companies)
	}
}

// TestFileModes checks that the database and its -wal and -shm files are
// readable and writable by their owner only, whatever the umask.
func TestFileModes(t *testing.T) {
	for _, umask := range []int{0, 0o022, 0o277} {
		t.Run(fmt.Sprintf("umask %04o", umask), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dir.db")
			old := syscall.Umask(umask)
			s, err := Open(context.Background(), path)
			syscall.Umask(old)
			must(t, err)
			defer s.Close()
			must(t, s.AddCompany(context.Background(), "c1", "Acme")) // writes the WAL
			for _, f := range []string{path, path + "-wal", path + "-shm"} {
				fi, err := os.Stat(f)
				must(t, err)
				if m := fi.Mode().Perm(); m != 0o600 {
					t.Errorf("%s has mode %04o, want 0600", filepath.Base(f), m)
				}
			}
		})
	}
}
