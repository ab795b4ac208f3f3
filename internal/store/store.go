// Package store is the reference server's directory: companies, groups,
// users, memberships, the sign-up whitelist and login sessions, kept in one
// SQLite file (modernc.org/sqlite, no cgo). It implements the host's
// Directory.
//
// Writes go through a single connection and every write transaction starts
// with BEGIN IMMEDIATE, so writers are serialized in this process and wait
// (busy_timeout) for writers in other processes; reads use a separate pool of
// read-only connections and never block writers (WAL journal). Commits use
// synchronous=NORMAL: a power loss can drop the last commits but never
// corrupts the file.
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

// Store is a SQLite directory. It is safe for concurrent use.
type Store struct {
	w        *sql.DB // one connection: all writes
	r        *sql.DB // read-only connections
	now      func() time.Time
	idle     time.Duration
	onChange []func()
}

// Option configures Open.
type Option func(*options)

type options struct {
	now      func() time.Time
	idle     time.Duration
	onChange []func()
}

// busyTimeout is how long a statement waits for a lock another process
// holds before failing with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// WithNow sets the clock used for creation and login times and session
// expiry. The default is time.Now.
func WithNow(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithSessionIdle ends sessions that go unused for d: SessionAccount does
// not find a session whose last use is d or more ago. Using a session records
// its use only when the recorded one is at least d/10 old, so a session in
// use costs one write per tenth of d, not one per request, and may end up to
// a tenth of d early. Zero (the default) turns the idle timeout off.
func WithSessionIdle(d time.Duration) Option {
	return func(o *options) { o.idle = d }
}

// OnChange registers fn to be called after every committed change to
// companies, groups or the whitelist (the data Snapshot returns). It is called
// synchronously, outside any transaction, in the goroutine that made the
// change; it is not called for user, membership or session changes.
func OnChange(fn func()) Option {
	return func(o *options) {
		if fn != nil {
			o.onChange = append(o.onChange, fn)
		}
	}
}

// Open opens (creating it when absent) the SQLite directory at path, turns
// on WAL journaling and foreign keys, and applies pending schema migrations.
// It does not accept ":memory:" or URI file names: path is a file path.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.idle < 0 {
		return nil, fmt.Errorf("store: session idle timeout %v is negative", o.idle)
	}
	if path == "" {
		return nil, errors.New("store: database path is empty")
	}
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("store: database path %q: want a file path", path)
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
	if err := migrate(ctx, w, migrations); err != nil {
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
	return &Store{w: w, r: r, now: o.now, idle: o.idle, onChange: o.onChange}, nil
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

// Close closes the database. The Store must not be used afterwards.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// write runs fn in one immediate write transaction and commits it when fn
// returns nil; on any error nothing fn did is kept.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// writeDirectory is write for changes to companies, groups or the whitelist:
// after a commit it calls the change hooks.
func (s *Store) writeDirectory(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := s.write(ctx, fn); err != nil {
		return err
	}
	for _, h := range s.onChange {
		h()
	}
	return nil
}

// read runs fn in one read-only transaction, so that it sees one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	return fn(tx)
}

// millis is the storage form of a time: Unix milliseconds.
func millis(t time.Time) int64 { return t.UnixMilli() }
