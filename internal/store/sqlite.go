package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	// The pure-Go SQLite driver, registered as "sqlite".
	_ "modernc.org/sqlite"
)

// busyTimeout is how long a SQLite statement waits for a lock another
// process holds before failing with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// openSQLite opens (creating it when absent) the SQLite directory at path,
// turns on WAL journaling and foreign keys, and applies pending schema
// migrations.
func openSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: database path is empty")
	}
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("store: database path %q: want a file path or a postgres:// URL", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: database path %q: %w", path, err)
	}
	// SQLite only says "unable to open database file" for these.
	if fi, err := os.Stat(filepath.Dir(abs)); err != nil {
		return nil, fmt.Errorf("store: database path %q: its directory: %w", path, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("store: database path %q: %s is not a directory", path, filepath.Dir(abs))
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("store: database path %q is a directory", path)
	}
	if err := createPrivate(abs); err != nil {
		return nil, fmt.Errorf("store: database path %q: %w", path, err)
	}

	w, err := openPool(ctx, abs, busyTimeout, false)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: set WAL journal: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		w.Close()
		return nil, fmt.Errorf("store: open %s: journal mode is %q, want wal", path, mode)
	}
	from, err := migrateSQLite(ctx, w, sqliteMigrations)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}

	r, err := openPool(ctx, abs, busyTimeout, true)
	if err != nil {
		w.Close()
		return nil, err
	}
	readConns := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(readConns)
	r.SetMaxIdleConns(readConns)
	return &Store{eng: sqliteEngine, w: w, r: r, migratedFrom: from}, nil
}

// createPrivate creates an empty database file readable and writable by its
// owner only, whatever the umask, when none exists. SQLite gives the -wal and
// -shm files it creates the database file's mode. An existing file keeps its
// mode.
func createPrivate(abs string) error {
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	// The umask may have taken bits off 0600 (e.g. 0277 leaves it read-only).
	return errors.Join(f.Chmod(0o600), f.Close())
}

// openPool opens a connection pool on the file at abs and checks it works.
func openPool(ctx context.Context, abs string, busy time.Duration, readOnly bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	// A file: URI keeps any '?' or '#' in the path from being read as the
	// start of the parameters.
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path // a Windows volume name
	}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	return db, nil
}

// migrateSQLite brings the database on db to len(steps) in one
// transaction: either every pending step is applied and the version
// recorded (in PRAGMA user_version), or nothing is. It returns the version
// it found.
func migrateSQLite(ctx context.Context, db *sql.DB, steps []string) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("migrate: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	var have int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return 0, fmt.Errorf("migrate: read schema version: %w", err)
	}
	if pending, err := applySteps(ctx, tx, have, steps); err != nil || !pending {
		return have, err
	}
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return have, fmt.Errorf("migrate: foreign key check: %w", err)
	}
	broken := rows.Next()
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return have, fmt.Errorf("migrate: foreign key check: %w", err)
	}
	if broken {
		return have, fmt.Errorf("migrate: schema version %d leaves rows with broken foreign keys", len(steps))
	}
	// PRAGMA takes no parameters; the value is an int.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(steps))); err != nil {
		return have, fmt.Errorf("migrate: record schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return have, fmt.Errorf("migrate: commit: %w", err)
	}
	return have, nil
}
