package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pingauthz/pingauthz/sso"
)

// CreateSession starts a session for a user (its store id) that lasts ttl and
// returns its token: 32 random bytes, base64url without padding. Only the
// token's SHA-256 is stored. It also deletes sessions that have expired.
func (s *Store) CreateSession(ctx context.Context, userID string, ttl time.Duration) (string, error) {
	if err := checkTTL(ttl); err != nil {
		return "", err
	}
	token, hash := newToken()
	err := s.write(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM users WHERE id = ?", userID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user", userID)
		}
		if err != nil {
			return fmt.Errorf("store: create session: look up user %q: %w", userID, err)
		}
		return createSession(ctx, tx, session{hash: hash, user: userID, created: s.now(), ttl: ttl})
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

func checkTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("store: session lifetime %v is not positive", ttl)
	}
	return nil
}

// newToken returns a new session token and its stored hash.
func newToken() (string, []byte) {
	var raw [32]byte
	_, _ = rand.Read(raw[:]) // never fails (crypto/rand documents it)
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	return token, tokenHash(token)
}

// session is a session to store.
type session struct {
	hash    []byte
	user    string
	created time.Time
	ttl     time.Duration
	// pingGroups and reasons are what the login that started it read and
	// decided; nil is stored as an empty list.
	pingGroups, reasons []string
}

// createSession stores a session of an existing user in tx and deletes the
// sessions that have expired.
func createSession(ctx context.Context, tx *sql.Tx, s session) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= ?", millis(s.created)); err != nil {
		return fmt.Errorf("store: create session: delete expired sessions: %w", err)
	}
	groups, err := json.Marshal(nonNil(s.pingGroups))
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	reasons, err := json.Marshal(nonNil(s.reasons))
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	_, err = tx.ExecContext(ctx, `
INSERT INTO sessions (token_hash, user, created_at, expires_at, ping_groups, reasons) VALUES (?, ?, ?, ?, ?, ?)`,
		s.hash, s.user, millis(s.created), millis(s.created.Add(s.ttl)), string(groups), string(reasons))
	if err != nil {
		return fmt.Errorf("store: create session for user %q: %w", s.user, err)
	}
	return nil
}

// SessionAccount returns the account of a session that has not expired, or
// sso.ErrNotFound for an unknown, expired or malformed token.
func (s *Store) SessionAccount(ctx context.Context, token string) (*sso.Account, error) {
	if token == "" {
		return nil, sso.ErrNotFound
	}
	var a *sso.Account
	err := s.read(ctx, func(tx *sql.Tx) error {
		var userID, groups, reasons string
		err := tx.QueryRowContext(ctx, "SELECT user, ping_groups, reasons FROM sessions WHERE token_hash = ? AND expires_at > ?",
			tokenHash(token), millis(s.now())).Scan(&userID, &groups, &reasons)
		if errors.Is(err, sql.ErrNoRows) {
			return sso.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: look up session: %w", err)
		}
		if a, err = account(ctx, tx, userID); err != nil {
			return err
		}
		if err := errors.Join(json.Unmarshal([]byte(groups), &a.PingGroups), json.Unmarshal([]byte(reasons), &a.Reasons)); err != nil {
			return fmt.Errorf("store: session of user %q: %w", userID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// DeleteSession ends a session; an unknown token is not an error.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = ?", tokenHash(token)); err != nil {
			return fmt.Errorf("store: delete session: %w", err)
		}
		return nil
	})
}

// tokenHash is the stored form of a session token.
func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
