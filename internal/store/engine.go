package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// engine is what differs between SQLite and PostgreSQL below the queries,
// which are written once, in the SQL both understand, with ? placeholders.
type engine struct {
	name string // "sqlite" or "postgres"
	// writeTx, directoryTx and readTx are the options of the three kinds of
	// transaction (see Store.write, Store.writeDirectory, Store.read).
	writeTx, directoryTx, readTx *sql.TxOptions
	// dollar: placeholders are $1, $2, ... (PostgreSQL).
	dollar bool
}

var (
	sqliteEngine = &engine{
		name: "sqlite",
		// BEGIN IMMEDIATE comes from the writer's _txlock parameter.
		writeTx:     nil,
		directoryTx: nil,
		readTx:      &sql.TxOptions{ReadOnly: true},
	}
	postgresEngine = &engine{
		name:        "postgres",
		writeTx:     &sql.TxOptions{Isolation: sql.LevelReadCommitted},
		directoryTx: &sql.TxOptions{Isolation: sql.LevelSerializable},
		readTx:      &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
		dollar:      true,
	}
)

// rebind turns a query written for SQLite into this engine's: on
// PostgreSQL, ? placeholders become $n (outside quotes) and SQLite's
// json_each(?), a table of a JSON array parameter's elements in a column
// "value", becomes json_array_elements_text(?::json), which has the same
// column.
func (e *engine) rebind(q string) string {
	if !e.dollar {
		return q
	}
	q = strings.ReplaceAll(q, "json_each(?)", "json_array_elements_text(?::json)")
	var b strings.Builder
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// PostgreSQL error codes (SQLSTATE) the store tells apart.
const (
	pgUniqueViolation      = "23505"
	pgForeignKeyViolation  = "23503"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

// retryable reports whether a transaction that failed with err may succeed
// when run again: a serialization failure or a deadlock (PostgreSQL).
// SQLite serializes its writers and waits for locks (busy_timeout), so
// nothing there is retried.
func (e *engine) retryable(err error) bool {
	code := pgCode(err)
	return code == pgSerializationFailure || code == pgDeadlockDetected
}

// isUnique reports a unique or primary-key constraint violation.
func isUnique(err error) bool {
	if pgCode(err) == pgUniqueViolation {
		return true
	}
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isForeignKey reports a foreign-key constraint violation.
func isForeignKey(err error) bool {
	return pgCode(err) == pgForeignKeyViolation || sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// notifyChannel is the PostgreSQL channel a directory change is announced
// on; the payload is the schema (current_schema()) that changed.
const notifyChannel = "pingauthz_directory"

// directoryChanged records, in the transaction that changes companies,
// groups or the whitelist, that the directory changed: it increments the
// directory version and, on PostgreSQL, notifies the listeners at commit.
func (e *engine) directoryChanged(ctx context.Context, t *tx) error {
	if _, err := t.exec(ctx, "UPDATE directory_version SET version = version + 1 WHERE id = 1"); err != nil {
		return fmt.Errorf("store: record a directory change: %w", err)
	}
	if e.dollar {
		if _, err := t.exec(ctx, "SELECT pg_notify('"+notifyChannel+"', current_schema())"); err != nil {
			return fmt.Errorf("store: announce a directory change: %w", err)
		}
	}
	return nil
}
