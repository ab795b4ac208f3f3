package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pingauthz/pingauthz/sso"
)

// Login applies an allowing decision and starts a session in one
// transaction, after consuming the login state: a state used before fails
// with sso.ErrReplayed. On any error nothing changes, so a login that fails
// half-way creates no user, changes no membership and leaves its state
// unused. Consumed states are kept until they expire; each Login deletes the
// expired ones.
func (s *Store) Login(ctx context.Context, state sso.LoginState, id *sso.Identity, d *sso.Decision, ttl time.Duration) (*sso.Account, string, error) {
	if err := checkApply(id, d); err != nil {
		return nil, "", err
	}
	if err := checkTTL(ttl); err != nil {
		return nil, "", err
	}
	if state.ID == "" {
		return nil, "", errors.New("store: login: the login state has no id")
	}
	token, hash := newToken()
	var acct *sso.Account
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.now()
		if err := consumeState(ctx, tx, state, now); err != nil {
			return err
		}
		var err error
		if acct, err = apply(ctx, tx, id, d, millis(now)); err != nil {
			return err
		}
		sess := session{hash: hash, user: acct.ID, created: now, ttl: ttl, pingGroups: id.Groups, reasons: d.Reasons}
		if err := createSession(ctx, tx, sess); err != nil {
			return err
		}
		acct.PingGroups, acct.Reasons = nonNil(id.Groups), nonNil(d.Reasons)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return acct, token, nil
}

// consumeState records a login state as used, deleting the expired records
// first; a state recorded before is sso.ErrReplayed.
func consumeState(ctx context.Context, tx *sql.Tx, state sso.LoginState, now time.Time) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM login_states WHERE expires_at <= ?", millis(now)); err != nil {
		return fmt.Errorf("store: login: delete expired login states: %w", err)
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO login_states (id, expires_at) VALUES (?, ?)", state.ID, millis(state.Expires))
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint failed") {
			return sso.ErrReplayed
		}
		return fmt.Errorf("store: login: record the login state: %w", err)
	}
	return nil
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}
