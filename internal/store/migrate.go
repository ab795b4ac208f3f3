package store

import (
	"context"
	"database/sql"
	"fmt"
)

// KnownSchemaVersion is the newest schema version this program knows.
// Version n is the same schema on both engines.
func KnownSchemaVersion() int { return len(sqliteMigrations) }

// sqliteMigrations is the SQLite schema history: sqliteMigrations[i] takes
// the database from version i to i+1. The version is kept in PRAGMA
// user_version. Append new steps, with the same step in postgresMigrations;
// never edit a released one. A step must not need foreign keys off (PRAGMA
// foreign_keys cannot change inside a transaction).
var sqliteMigrations = []string{
	// 1: the directory.
	`
CREATE TABLE companies (
	id   TEXT PRIMARY KEY,
	name TEXT NOT NULL CHECK (name <> '')
) STRICT;

CREATE TABLE groups (
	id      INTEGER PRIMARY KEY,
	company TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
	name    TEXT NOT NULL CHECK (name <> ''),
	UNIQUE (company, name)
) STRICT;

CREATE TABLE users (
	id         TEXT PRIMARY KEY,
	issuer     TEXT NOT NULL,
	user_id    TEXT NOT NULL CHECK (user_id <> ''),
	email      TEXT NOT NULL,
	name       TEXT NOT NULL,
	company    TEXT NOT NULL REFERENCES companies(id),
	role       TEXT NOT NULL CHECK (role <> ''),
	created_at INTEGER NOT NULL,
	last_login INTEGER,
	UNIQUE (issuer, user_id)
) STRICT;

CREATE TABLE memberships (
	user     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
	source   TEXT NOT NULL CHECK (source IN ('sso', 'admin')),
	PRIMARY KEY (user, group_id)
) STRICT;

CREATE TABLE whitelist_emails (
	email    TEXT PRIMARY KEY CHECK (email = lower(email) AND email LIKE '_%@_%'),
	company  TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
	is_admin INTEGER NOT NULL CHECK (is_admin IN (0, 1))
) STRICT;

CREATE TABLE whitelist_domains (
	domain   TEXT PRIMARY KEY CHECK (domain = lower(domain) AND domain <> '' AND domain NOT LIKE '%@%'),
	company  TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
	is_admin INTEGER NOT NULL CHECK (is_admin IN (0, 1))
) STRICT;
`,
	// 2: login sessions and lookup indexes.
	`
CREATE TABLE sessions (
	token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
	user       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_expires_at ON sessions(expires_at);
CREATE INDEX sessions_user ON sessions(user);
CREATE INDEX users_company ON users(company);
CREATE INDEX memberships_group ON memberships(group_id);
CREATE INDEX whitelist_emails_company ON whitelist_emails(company);
CREATE INDEX whitelist_domains_company ON whitelist_domains(company);
`,
	// 3: consumed login states; what a session's login read and decided.
	`
CREATE TABLE login_states (
	id         TEXT PRIMARY KEY CHECK (id <> ''),
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX login_states_expires_at ON login_states(expires_at);

ALTER TABLE sessions ADD COLUMN ping_groups TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sessions ADD COLUMN reasons TEXT NOT NULL DEFAULT '[]';
`,
	// 4: a session's last use, for the idle timeout.
	`
ALTER TABLE sessions ADD COLUMN last_used INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_used = created_at;
`,
	// 5: a counter of directory changes, which every change to companies,
	// groups or the whitelist increments, for other processes to watch.
	`
CREATE TABLE directory_version (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	version INTEGER NOT NULL
) STRICT;
INSERT INTO directory_version (id, version) VALUES (1, 1);
`,
}

// applySteps runs the steps after version have in tx and says whether
// there were any. A schema newer than steps is a SchemaVersionError.
func applySteps(ctx context.Context, tx *sql.Tx, have int, steps []string) (pending bool, err error) {
	if have > len(steps) {
		return false, &SchemaVersionError{Have: have, Known: len(steps)}
	}
	for v := have; v < len(steps); v++ {
		if _, err := tx.ExecContext(ctx, steps[v]); err != nil {
			return false, fmt.Errorf("migrate: schema version %d: %w", v+1, err)
		}
	}
	return have < len(steps), nil
}
