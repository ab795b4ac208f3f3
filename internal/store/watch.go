package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Defaults of WatchOptions.
const (
	// DefaultWatchInterval is how often SQLite is asked whether another
	// connection has committed (PRAGMA data_version).
	DefaultWatchInterval = 250 * time.Millisecond
	// DefaultWatchFallback is how often PostgreSQL is polled while the
	// connection that listens for notifications is down.
	DefaultWatchFallback = 5 * time.Second
)

// WatchOptions configures Watch.
type WatchOptions struct {
	// Interval is how often SQLite checks PRAGMA data_version; zero means
	// DefaultWatchInterval.
	Interval time.Duration
	// Fallback is how often PostgreSQL polls the directory version while
	// it cannot listen, before it tries to listen again; zero means
	// DefaultWatchFallback.
	Fallback time.Duration
	// OnError, when set, is told why a check failed or the listening
	// connection dropped; the watch goes on.
	OnError func(error)

	// tick replaces the ticker of Interval (SQLite) or Fallback
	// (PostgreSQL), for tests.
	tick <-chan time.Time
	// onListen is called with the backend's process id each time
	// PostgreSQL is listening again, for tests.
	onListen func(pid uint32)
}

// Watch calls changed with the directory version each time it sees the
// directory of companies, groups and whitelist change, whichever process
// changed it, until ctx ends. since is the version the caller has seen
// (VersionedSnapshot); a different version at the start is a change too.
// Versions only grow; changed is never called twice with one version, and
// several changes close together may be seen as one. Watch calls changed
// from its own goroutine, one call at a time, and returns when ctx ends.
//
// An idle watch costs next to nothing: SQLite asks its connection whether
// anyone committed (PRAGMA data_version, no table read) every Interval and
// reads the one-row version only then; PostgreSQL waits for a notification
// (LISTEN) and polls only while that connection is down.
func (s *Store) Watch(ctx context.Context, since int64, opts WatchOptions, changed func(version int64)) {
	if opts.Interval <= 0 {
		opts.Interval = DefaultWatchInterval
	}
	if opts.Fallback <= 0 {
		opts.Fallback = DefaultWatchFallback
	}
	w := &watcher{s: s, opts: opts, seen: since, changed: changed}
	if s.pg != nil {
		w.postgres(ctx)
	} else {
		w.sqlite(ctx)
	}
}

type watcher struct {
	s       *Store
	opts    WatchOptions
	seen    int64
	changed func(int64)
}

func (w *watcher) report(err error) {
	if w.opts.OnError != nil && err != nil {
		w.opts.OnError(err)
	}
}

// saw reports version v, calling changed when it is new.
func (w *watcher) saw(v int64) {
	if v != w.seen {
		w.seen = v
		w.changed(v)
	}
}

// ticker returns the watch's tick channel: the test's, or a ticker's.
func (w *watcher) ticker(every time.Duration) (<-chan time.Time, func()) {
	if w.opts.tick != nil {
		return w.opts.tick, func() {}
	}
	t := time.NewTicker(every)
	return t.C, t.Stop
}

// sqlite watches PRAGMA data_version on a connection of its own: it
// changes when another connection, of this process or another, commits.
func (w *watcher) sqlite(ctx context.Context) {
	tick, stop := w.ticker(w.opts.Interval)
	defer stop()
	c, err := w.s.r.Conn(ctx)
	for err != nil {
		w.report(fmt.Errorf("store: watch: %w", err))
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		c, err = w.s.r.Conn(ctx)
	}
	defer c.Close()
	dataVersion := int64(-1)
	for {
		if err := w.sqliteCheck(ctx, c, &dataVersion); err != nil && ctx.Err() == nil {
			w.report(fmt.Errorf("store: watch: %w", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}

// sqliteCheck is one check of the SQLite watch on its connection c: it
// reads the directory version only when data_version moved from
// *dataVersion.
func (w *watcher) sqliteCheck(ctx context.Context, c *sql.Conn, dataVersion *int64) error {
	var dv int64
	if err := c.QueryRowContext(ctx, "PRAGMA data_version").Scan(&dv); err != nil {
		return err
	}
	if dv == *dataVersion {
		return nil
	}
	var v int64
	if err := c.QueryRowContext(ctx, "SELECT version FROM directory_version WHERE id = 1").Scan(&v); err != nil {
		return err
	}
	*dataVersion = dv
	w.saw(v)
	return nil
}

// postgres listens for notifications of directory changes, checking the
// version at each one of this schema; while it cannot listen it polls the
// version every Fallback, and tries to listen again.
func (w *watcher) postgres(ctx context.Context) {
	tick, stop := w.ticker(w.opts.Fallback)
	defer stop()
	for {
		err := w.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		w.report(fmt.Errorf("store: watch: listening for directory changes: %w; polling every %s", err, w.opts.Fallback))
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		w.poll(ctx)
	}
}

// poll reads the directory version through the pool.
func (w *watcher) poll(ctx context.Context) {
	v, err := w.s.DirectoryVersion(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.report(fmt.Errorf("store: watch: %w", err))
		}
		return
	}
	w.saw(v)
}

// listen runs one listening connection until it fails or ctx ends.
func (w *watcher) listen(ctx context.Context) error {
	cfg := w.s.pg.Copy()
	cfg.RuntimeParams["application_name"] = "pingauthz-watch"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	if w.opts.onListen != nil {
		w.opts.onListen(conn.PgConn().PID())
	}
	// Changes made while nobody listened.
	check := func() error {
		var v int64
		if err := conn.QueryRow(ctx, "SELECT version FROM directory_version WHERE id = 1").Scan(&v); err != nil {
			return err
		}
		w.saw(v)
		return nil
	}
	if err := check(); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if n.Payload != schema {
			continue // another directory in this database
		}
		if err := check(); err != nil {
			return err
		}
	}
}
