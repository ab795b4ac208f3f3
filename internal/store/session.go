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
	"slices"
	"time"

	"github.com/pingauthz/pingauthz/sso"
)

// CreateSession starts a session for a user (its store id) that lasts ttl and
// returns its token: 32 random bytes, base64url without padding. Only the
// token's SHA-256 is stored.
func (s *Store) CreateSession(ctx context.Context, userID string, ttl time.Duration) (string, error) {
	if err := checkTTL(ttl); err != nil {
		return "", err
	}
	token, hash := newToken()
	err := s.write(ctx, func(t *tx) error {
		var one int
		err := t.queryRow(ctx, "SELECT 1 FROM users WHERE id = ?", userID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user", userID)
		}
		if err != nil {
			return fmt.Errorf("store: create session: look up user %q: %w", userID, err)
		}
		return createSession(ctx, t, session{hash: hash, user: userID, created: s.now(), ttl: ttl})
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

// createSession stores a session of an existing user in t.
func createSession(ctx context.Context, t *tx, s session) error {
	groups, err := json.Marshal(nonNil(s.pingGroups))
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	reasons, err := json.Marshal(nonNil(s.reasons))
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	_, err = t.exec(ctx, `
INSERT INTO sessions (token_hash, "user", created_at, expires_at, last_used, ping_groups, reasons) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.hash, s.user, millis(s.created), millis(s.created.Add(s.ttl)), millis(s.created), string(groups), string(reasons))
	if err != nil {
		return fmt.Errorf("store: create session for user %q: %w", s.user, err)
	}
	return nil
}

// SessionAccount returns the account of a session that has not expired (nor
// gone unused for the idle timeout, see WithSessionIdle), or sso.ErrNotFound
// for an unknown, expired, idle or malformed token. With an idle timeout it
// records the use when the recorded one is a tenth of the timeout old.
func (s *Store) SessionAccount(ctx context.Context, token string) (*sso.Account, error) {
	if token == "" {
		return nil, sso.ErrNotFound
	}
	now := millis(s.now())
	hash := tokenHash(token)
	a, lastUsed, err := s.sessionAccount(ctx, hash, now)
	if err != nil {
		return nil, err
	}
	if s.idle > 0 && now-lastUsed >= s.idle.Milliseconds() {
		return nil, sso.ErrNotFound
	}
	if s.idle > 0 && now-lastUsed >= (s.idle/idleRefresh).Milliseconds() {
		if err := s.touchSession(ctx, hash, now); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// sessionAccount reads a session that has not expired with its account, in
// one statement.
func (s *Store) sessionAccount(ctx context.Context, hash []byte, now int64) (*sso.Account, int64, error) {
	rows, err := s.queryDB(ctx, s.r, `
SELECT s.ping_groups, s.reasons, s.last_used, u.id, u.email, u.name, u.company, c.name, u.role, g.name
FROM sessions s JOIN users u ON u.id = s."user" JOIN companies c ON c.id = u.company
LEFT JOIN memberships m ON m."user" = u.id LEFT JOIN groups g ON g.id = m.group_id
WHERE s.token_hash = ? AND s.expires_at > ?`, hash, now)
	if err != nil {
		return nil, 0, fmt.Errorf("store: look up session: %w", err)
	}
	defer rows.Close()
	var a *sso.Account
	var lastUsed int64
	var pingGroups, reasons string
	for rows.Next() {
		var next sso.Account
		var group sql.NullString
		if err := rows.Scan(&pingGroups, &reasons, &lastUsed, &next.ID, &next.Email, &next.Name,
			&next.Company, &next.CompanyName, &next.Role, &group); err != nil {
			return nil, 0, fmt.Errorf("store: look up session: %w", err)
		}
		if a == nil {
			next.Groups = []string{}
			a = &next
		}
		if group.Valid {
			a.Groups = append(a.Groups, group.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: look up session: %w", err)
	}
	if a == nil {
		return nil, 0, sso.ErrNotFound
	}
	slices.Sort(a.Groups)
	if err := errors.Join(json.Unmarshal([]byte(pingGroups), &a.PingGroups), json.Unmarshal([]byte(reasons), &a.Reasons)); err != nil {
		return nil, 0, fmt.Errorf("store: session of user %q: %w", a.ID, err)
	}
	return a, lastUsed, nil
}

// idleRefresh is the fraction of the idle timeout after which a use of a
// session is recorded.
const idleRefresh = 10

// touchSession records a use of a session at now; it never moves the
// recorded use backwards.
func (s *Store) touchSession(ctx context.Context, hash []byte, now int64) error {
	return s.write(ctx, func(t *tx) error {
		if _, err := t.exec(ctx, "UPDATE sessions SET last_used = ? WHERE token_hash = ? AND last_used < ?", now, hash, now); err != nil {
			return fmt.Errorf("store: record the use of a session: %w", err)
		}
		return nil
	})
}

// DeleteSession ends a session; an unknown token is not an error.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	return s.write(ctx, func(t *tx) error {
		if _, err := t.exec(ctx, "DELETE FROM sessions WHERE token_hash = ?", tokenHash(token)); err != nil {
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
