// Package store is the reference server's directory: companies, groups,
// users, memberships, the sign-up whitelist, consumed login states and login
// sessions. It implements the host's Directory on one of two engines, with
// the same behaviour and the same tests:
//
//   - SQLite (modernc.org/sqlite, no cgo), one file, the embedded default.
//     Writes go through a single connection and every write transaction
//     starts with BEGIN IMMEDIATE, so writers are serialized in this process
//     and wait (busy_timeout) for writers in other processes; reads use a
//     separate pool of read-only connections and never block writers (WAL
//     journal). Commits use synchronous=NORMAL: a power loss can drop the
//     last commits but never corrupts the file.
//   - PostgreSQL (github.com/jackc/pgx/v5), for several servers sharing one
//     directory. Logins run at READ COMMITTED and rely on unique constraints
//     (a login state is consumed once, a user is created once: INSERT ... ON
//     CONFLICT) and on the row lock an UPDATE takes; changes to companies,
//     groups and the whitelist run SERIALIZABLE. A transaction that fails
//     with a serialization failure or a deadlock is retried, a bounded number
//     of times.
//
// Statements are prepared once per connection and reused. Text compares and
// sorts byte-wise on both engines.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Store is a directory on SQLite or PostgreSQL. It is safe for concurrent
// use, by several processes too.
type Store struct {
	eng      *engine
	w        *sql.DB // writes (SQLite: one connection)
	r        *sql.DB // reads (SQLite: read-only connections; PostgreSQL: w)
	now      func() time.Time
	idle     time.Duration
	onChange []func()
	// migratedFrom is the schema version Open found.
	migratedFrom int
	// pg is the PostgreSQL connection configuration (nil for SQLite).
	pg *pgx.ConnConfig

	stmtMu sync.Mutex
	stmts  map[stmtKey]*sql.Stmt
	// statements counts the statements run, besides BEGIN and COMMIT.
	statements atomic.Int64
}

type stmtKey struct {
	db *sql.DB
	q  string
}

// Option configures Open.
type Option func(*options)

type options struct {
	now      func() time.Time
	idle     time.Duration
	onChange []func()
}

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
// companies, groups or the whitelist (the data Snapshot returns) made
// through this Store. It is called synchronously, outside any transaction, in
// the goroutine that made the change; it is not called for user, membership
// or session changes, nor for changes made by other processes (see Watch).
func OnChange(fn func()) Option {
	return func(o *options) {
		if fn != nil {
			o.onChange = append(o.onChange, fn)
		}
	}
}

// IsPostgres reports whether db names a PostgreSQL database (a postgres:// or
// postgresql:// URL) rather than a SQLite file.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Open opens the directory db: a PostgreSQL URL (postgres://user@host/name,
// with any parameter pgx accepts, e.g. sslmode or search_path) or a SQLite
// file path, which is created (mode 0600) when absent. It applies pending
// schema migrations and refuses a schema newer than this program knows (a
// *SchemaVersionError). SQLite does not accept ":memory:" or URI file names.
func Open(ctx context.Context, db string, opts ...Option) (*Store, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.idle < 0 {
		return nil, fmt.Errorf("store: session idle timeout %v is negative", o.idle)
	}
	var s *Store
	var err error
	if IsPostgres(db) {
		s, err = openPostgres(ctx, db)
	} else {
		s, err = openSQLite(ctx, db)
	}
	if err != nil {
		return nil, err
	}
	s.now, s.idle, s.onChange = o.now, o.idle, o.onChange
	s.stmts = map[stmtKey]*sql.Stmt{}
	return s, nil
}

// Engine returns "sqlite" or "postgres".
func (s *Store) Engine() string { return s.eng.name }

// Migrated returns the schema version Open found and the one it left,
// which is KnownSchemaVersion.
func (s *Store) Migrated() (from, to int) { return s.migratedFrom, KnownSchemaVersion() }

// Close closes the database. The Store must not be used afterwards.
func (s *Store) Close() error {
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = map[stmtKey]*sql.Stmt{}
	s.stmtMu.Unlock()
	if s.r == s.w {
		return s.w.Close()
	}
	return errors.Join(s.r.Close(), s.w.Close())
}

// maxAttempts bounds the runs of one write transaction that fails with a
// serialization failure or a deadlock.
const maxAttempts = 8

// write runs fn in one write transaction and commits it when fn returns
// nil; on any error nothing fn did is kept. On PostgreSQL it runs at READ
// COMMITTED. fn may run more than once (see maxAttempts).
func (s *Store) write(ctx context.Context, fn func(tx *tx) error) error {
	return s.inTx(ctx, s.w, s.eng.writeTx, fn)
}

// writeDirectory is write for changes to companies, groups or the
// whitelist: it runs SERIALIZABLE on PostgreSQL and calls the change hooks
// after the commit.
func (s *Store) writeDirectory(ctx context.Context, fn func(tx *tx) error) error {
	err := s.inTx(ctx, s.w, s.eng.directoryTx, func(t *tx) error {
		if err := fn(t); err != nil {
			return err
		}
		return s.eng.directoryChanged(ctx, t)
	})
	if err != nil {
		return err
	}
	for _, h := range s.onChange {
		h()
	}
	return nil
}

// read runs fn in one read-only transaction, so that it sees one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *tx) error) error {
	return s.inTx(ctx, s.r, s.eng.readTx, fn)
}

// inTx runs fn in a transaction on db, again while it fails with a
// retryable error and attempts remain.
func (s *Store) inTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(tx *tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = s.tryTx(ctx, db, opts, fn)
		if err == nil || !s.eng.retryable(err) {
			return err
		}
		if attempt == maxAttempts {
			return fmt.Errorf("store: gave up after %d attempts: %w", attempt, err)
		}
		// Back off 1-2 ms, 2-4 ms, ... up to 64-128 ms, so that
		// contenders spread out.
		d := time.Millisecond << min(attempt-1, 6)
		d += rand.N(d)
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(d):
		}
	}
}

func (s *Store) tryTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(tx *tx) error) error {
	sqlTx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	t := &tx{Tx: sqlTx, s: s, db: db}
	// Statements first used in t are prepared for reuse once t has given
	// its connection back (the SQLite writer has only one).
	defer func() { s.prepareAll(ctx, db, t.unprepared) }()
	if err := fn(t); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// stmt returns the prepared statement of query q (written with ?
// placeholders) on db, or nil when it has not been prepared yet.
func (s *Store) stmt(db *sql.DB, q string) *sql.Stmt {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	return s.stmts[stmtKey{db, q}]
}

// prepare returns the prepared statement of query q on db, preparing it
// the first time. It takes a connection of db: never call it while holding
// one.
func (s *Store) prepare(ctx context.Context, db *sql.DB, q string) (*sql.Stmt, error) {
	if st := s.stmt(db, q); st != nil {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, s.eng.rebind(q))
	if err != nil {
		return nil, err
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if old, ok := s.stmts[stmtKey{db, q}]; ok {
		st.Close()
		return old, nil
	}
	s.stmts[stmtKey{db, q}] = st
	return st, nil
}

// prepareAll prepares queries on db for reuse; a failure only means they
// are prepared again at their next use.
func (s *Store) prepareAll(ctx context.Context, db *sql.DB, queries []string) {
	for _, q := range queries {
		if _, err := s.prepare(context.WithoutCancel(ctx), db, q); err != nil {
			return
		}
	}
}

// tx is one transaction whose statements are prepared once per connection.
type tx struct {
	*sql.Tx
	s  *Store
	db *sql.DB
	// unprepared are the queries used in the transaction that had no
	// prepared statement yet.
	unprepared []string
}

// stmt returns q's statement in the transaction: the store's prepared one,
// or one prepared for this transaction only, the first time.
func (t *tx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	t.s.statements.Add(1)
	if st := t.s.stmt(t.db, q); st != nil {
		return t.StmtContext(ctx, st), nil
	}
	t.unprepared = append(t.unprepared, q)
	return t.PrepareContext(ctx, t.s.eng.rebind(q))
}

func (t *tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (t *tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is QueryRowContext with a prepared statement.
func (t *tx) queryRow(ctx context.Context, q string, args ...any) row {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return row{err: err}
	}
	return row{r: st.QueryRowContext(ctx, args...)}
}

// row is a *sql.Row or the error that kept it from being queried.
type row struct {
	r   *sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dest...)
}

// queryDB runs one query outside a transaction with a prepared statement:
// on both engines one statement sees one snapshot.
func (s *Store) queryDB(ctx context.Context, db *sql.DB, q string, args ...any) (*sql.Rows, error) {
	s.statements.Add(1)
	st, err := s.prepare(ctx, db, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// each runs a query and calls fn for every row.
func (t *tx) each(ctx context.Context, q string, fn func(*sql.Rows) error, args ...any) error {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// millis is the storage form of a time: Unix milliseconds.
func millis(t time.Time) int64 { return t.UnixMilli() }
