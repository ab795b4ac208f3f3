package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/rego"
)

// Login is Apply and CreateSession in one transaction: the decision is
// applied and a session for the account started, or, on any error, neither.
// A login that fails half-way creates no user and changes no membership.
func (s *Store) Login(ctx context.Context, id *rego.Identity, d *rego.Decision, ttl time.Duration) (*host.Account, string, error) {
	if err := checkApply(id, d); err != nil {
		return nil, "", err
	}
	if err := checkTTL(ttl); err != nil {
		return nil, "", err
	}
	token, hash := newToken()
	var acct *host.Account
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.now()
		var err error
		if acct, err = apply(ctx, tx, id, d, millis(now)); err != nil {
			return err
		}
		return createSession(ctx, tx, acct.ID, hash, now, ttl)
	})
	if err != nil {
		return nil, "", err
	}
	return acct, token, nil
}
