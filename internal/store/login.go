package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pingauthz/pingauthz/sso"
)

// Login applies an allowing decision and starts a session in one
// transaction, after consuming the login state: a state used before fails
// with sso.ErrReplayed, in this process or any other sharing the database,
// and of two logins racing with one state exactly one succeeds. On any error
// nothing changes, so a login that fails half-way creates no user, changes
// no membership and leaves its state unused. Consumed states are kept until
// they expire; Prune deletes them after that.
//
// A repeat login runs four statements: record the state, update the user
// (returning it), read its memberships with the decided groups, and insert
// the session.
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
	err := s.write(ctx, func(t *tx) error {
		now := s.now()
		if err := consumeState(ctx, t, state); err != nil {
			return err
		}
		var err error
		if acct, err = apply(ctx, t, id, d, millis(now)); err != nil {
			return err
		}
		sess := session{hash: hash, user: acct.ID, created: now, ttl: ttl, pingGroups: id.Groups, reasons: d.Reasons}
		if err := createSession(ctx, t, sess); err != nil {
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

// consumeState records a login state as used; a state recorded before is
// sso.ErrReplayed. A concurrent transaction recording the same state makes
// this one wait for its outcome (the primary key's lock).
func consumeState(ctx context.Context, t *tx, state sso.LoginState) error {
	res, err := t.exec(ctx, "INSERT INTO login_states (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
		state.ID, millis(state.Expires))
	if err != nil {
		return fmt.Errorf("store: login: record the login state: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: login: record the login state: %w", err)
	}
	if n == 0 {
		return sso.ErrReplayed
	}
	return nil
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}
