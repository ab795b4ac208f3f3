package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/pingauthz/pingauthz/sso"
)

// DefaultRole is the role of a new user whose decision leaves the role nil.
const DefaultRole = "user"

// Apply applies an allowing decision for an identity in one immediate
// transaction and returns the resulting account; on any error nothing
// changes.
//
// A user not found by (issuer, user id) is created in d.Company when
// d.Signup is set (with role *d.Role, or DefaultRole); without Signup that is
// a NotFoundError. A user found, including one a concurrent login has just
// created, keeps its company; its role is set when d.Role is not nil, and its
// email and name are refreshed from the identity when the identity has them.
// With d.SyncGroups, every decided group that exists in the user's company
// gets an SSO membership unless a membership exists, and SSO memberships of
// groups not decided are removed; admin memberships are never touched and
// groups are never created. A decision with Allow false fails with ErrDenied.
func (s *Store) Apply(ctx context.Context, id *sso.Identity, d *sso.Decision) (*sso.Account, error) {
	if err := checkApply(id, d); err != nil {
		return nil, err
	}
	var acct *sso.Account
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		acct, err = apply(ctx, tx, id, d, millis(s.now()))
		return err
	})
	if err != nil {
		return nil, err
	}
	return acct, nil
}

// checkApply refuses what Apply cannot apply before a transaction starts.
func checkApply(id *sso.Identity, d *sso.Decision) error {
	switch {
	case id == nil:
		return errors.New("store: apply: identity is nil")
	case d == nil:
		return errors.New("store: apply: decision is nil")
	case !d.Allow:
		if len(d.Reasons) > 0 {
			return fmt.Errorf("%w (reasons: %s)", ErrDenied, strings.Join(d.Reasons, ", "))
		}
		return ErrDenied
	case id.UserID == "":
		return errors.New("store: apply: identity has an empty user id")
	case d.Role != nil && *d.Role == "":
		return errors.New("store: apply: decision role is empty")
	}
	return nil
}

// apply is Apply inside the transaction tx.
func apply(ctx context.Context, tx *sql.Tx, id *sso.Identity, d *sso.Decision, now int64) (*sso.Account, error) {
	u, err := findUserRow(ctx, tx, id.Issuer, id.UserID)
	switch {
	case errors.Is(err, sso.ErrNotFound) && d.Signup:
		if u, err = createUser(ctx, tx, id, d, now); err != nil {
			return nil, err
		}
	case errors.Is(err, sso.ErrNotFound):
		nf := &NotFoundError{Kind: "user", Key: fmt.Sprintf("%q of issuer %q", id.UserID, id.Issuer)}
		return nil, fmt.Errorf("%w, and the decision does not sign it up", nf)
	case err != nil:
		return nil, err
	default:
		if err := updateUser(ctx, tx, u.ID, id, d, now); err != nil {
			return nil, err
		}
	}
	if d.SyncGroups {
		if err := syncGroups(ctx, tx, u.ID, u.Company, d.Groups); err != nil {
			return nil, err
		}
	}
	return account(ctx, tx, u.ID)
}

// createUser inserts a new user for the identity into the decided company.
func createUser(ctx context.Context, tx *sql.Tx, id *sso.Identity, d *sso.Decision, now int64) (*sso.User, error) {
	if d.Company == "" {
		return nil, errors.New("store: apply: sign-up decision names no company")
	}
	if err := requireCompany(ctx, tx, d.Company); err != nil {
		return nil, fmt.Errorf("store: apply: sign-up into company %q: %w", d.Company, err)
	}
	role := DefaultRole
	if d.Role != nil {
		role = *d.Role
	}
	u := &sso.User{ID: newID(), Company: d.Company, Role: role}
	_, err := tx.ExecContext(ctx, `
INSERT INTO users (id, issuer, user_id, email, name, company, role, created_at, last_login)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, id.Issuer, id.UserID, id.Email, id.Name, u.Company, u.Role, now, now)
	if err != nil {
		return nil, fmt.Errorf("store: apply: create user %q of issuer %q: %w", id.UserID, id.Issuer, err)
	}
	return u, nil
}

// updateUser records a login of an existing user: role (when decided), email
// and name (when the identity has them) and the login time.
func updateUser(ctx context.Context, tx *sql.Tx, userID string, id *sso.Identity, d *sso.Decision, now int64) error {
	_, err := tx.ExecContext(ctx, `
UPDATE users SET
	role = coalesce(?, role),
	email = CASE WHEN ? <> '' THEN ? ELSE email END,
	name = CASE WHEN ? <> '' THEN ? ELSE name END,
	last_login = ?
WHERE id = ?`,
		d.Role, id.Email, id.Email, id.Name, id.Name, now, userID)
	if err != nil {
		return fmt.Errorf("store: apply: update user %q: %w", userID, err)
	}
	return nil
}

// syncGroups makes the user's SSO memberships in its company match the
// decided group names; admin memberships are left alone and names that are
// not groups of the company are skipped.
func syncGroups(ctx context.Context, tx *sql.Tx, userID, company string, decided []string) error {
	want := make(map[string]bool, len(decided))
	for _, g := range decided {
		want[g] = true
	}
	type group struct {
		id     int64
		source sql.NullString // the user's membership, if any
	}
	groups := map[string]group{}
	err := eachRow(ctx, tx, `
SELECT g.id, g.name, m.source FROM groups g
LEFT JOIN memberships m ON m.group_id = g.id AND m.user = ?
WHERE g.company = ?`, func(rows *sql.Rows) error {
		var name string
		var g group
		if err := rows.Scan(&g.id, &name, &g.source); err != nil {
			return err
		}
		groups[name] = g
		return nil
	}, userID, company)
	if err != nil {
		return fmt.Errorf("store: apply: groups of company %q: %w", company, err)
	}
	for name, g := range groups {
		switch {
		case want[name] && !g.source.Valid:
			_, err = tx.ExecContext(ctx, "INSERT INTO memberships (user, group_id, source) VALUES (?, ?, 'sso')", userID, g.id)
		case !want[name] && g.source.String == SourceSSO:
			_, err = tx.ExecContext(ctx, "DELETE FROM memberships WHERE user = ? AND group_id = ?", userID, g.id)
		default:
			continue
		}
		if err != nil {
			return fmt.Errorf("store: apply: membership of user %q in group %q: %w", userID, name, err)
		}
	}
	return nil
}

// newID returns a random 128-bit id in hex.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b[:])
}
