package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// postgresConns bounds the connections one Store opens to PostgreSQL (the
// directory watch takes one more).
const postgresConns = 16

// migrationLock is the key of the advisory lock that serializes schema
// migrations of processes starting at once.
const migrationLock = 0x70696e67617574 // "pingaut"

// openPostgres opens the PostgreSQL directory at the URL dsn and applies
// pending schema migrations.
func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: database URL %s: %w", redact(dsn), err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(postgresConns)
	db.SetMaxIdleConns(postgresConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", redact(dsn), err)
	}
	from, err := migratePostgres(ctx, db, postgresMigrations)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", redact(dsn), err)
	}
	return &Store{eng: postgresEngine, w: db, r: db, migratedFrom: from, pg: cfg}, nil
}

// redact returns a database URL without its password, for messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(a PostgreSQL URL that does not parse)"
	}
	return u.Redacted()
}

// migratePostgres brings the database on db to len(steps) in one
// transaction, holding an advisory lock so that processes starting at once
// migrate one after the other: either every pending step is applied and the
// version recorded, or nothing is. It returns the version it found.
func migratePostgres(ctx context.Context, db *sql.DB, steps []string) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("migrate: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
		return 0, fmt.Errorf("migrate: lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"); err != nil {
		return 0, fmt.Errorf("migrate: schema version table: %w", err)
	}
	have, err := postgresVersion(ctx, tx)
	if err != nil {
		return 0, err
	}
	if pending, err := applySteps(ctx, tx, have, steps); err != nil || !pending {
		return have, err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM schema_version"); err != nil {
		return have, fmt.Errorf("migrate: record schema version: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES ($1)", len(steps)); err != nil {
		return have, fmt.Errorf("migrate: record schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return have, fmt.Errorf("migrate: commit: %w", err)
	}
	return have, nil
}

// postgresVersion reads the schema version; 0 when none is recorded.
func postgresVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	var v int
	err := tx.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("migrate: read schema version: %w", err)
	}
	return v, nil
}
