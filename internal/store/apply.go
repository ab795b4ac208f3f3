package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pingauthz/pingauthz/sso"
)

// DefaultRole is the role of a new user whose decision leaves the role nil.
const DefaultRole = "user"

// Apply applies an allowing decision for an identity in one transaction
// and returns the resulting account; on any error nothing changes.
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
	err := s.write(ctx, func(t *tx) error {
		var err error
		acct, err = apply(ctx, t, id, d, millis(s.now()))
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

// apply is Apply inside the transaction t. It builds the account from what
// its statements return, without reading it again.
func apply(ctx context.Context, t *tx, id *sso.Identity, d *sso.Decision, now int64) (*sso.Account, error) {
	acct, err := updateUser(ctx, t, id, d, now)
	if err != nil {
		return nil, err
	}
	created := false
	if acct == nil {
		if !d.Signup {
			nf := &NotFoundError{Kind: "user", Key: fmt.Sprintf("%q of issuer %q", id.UserID, id.Issuer)}
			return nil, fmt.Errorf("%w, and the decision does not sign it up", nf)
		}
		if acct, err = createUser(ctx, t, id, d, now); err != nil {
			return nil, err
		}
		created = acct != nil
		if !created {
			// A concurrent login created the user and has committed:
			// log into that one.
			if acct, err = updateUser(ctx, t, id, d, now); err != nil {
				return nil, err
			}
			if acct == nil {
				return nil, fmt.Errorf("store: apply: user %q of issuer %q was created and removed meanwhile", id.UserID, id.Issuer)
			}
		}
	}
	if acct.Groups, err = syncGroups(ctx, t, acct.ID, acct.Company, d, created); err != nil {
		return nil, err
	}
	acct.PingGroups, acct.Reasons = []string{}, []string{}
	return acct, nil
}

// updateUser records a login of an existing user: role (when decided), email
// and name (when the identity has them) and the login time, and returns the
// user without its groups, or nil when no user has the identity. The update
// locks the user's row until the transaction ends, so logins of one user
// apply one after the other.
func updateUser(ctx context.Context, t *tx, id *sso.Identity, d *sso.Decision, now int64) (*sso.Account, error) {
	var a sso.Account
	err := t.queryRow(ctx, `
UPDATE users SET
	role = coalesce(?, role),
	email = CASE WHEN ? <> '' THEN ? ELSE email END,
	name = CASE WHEN ? <> '' THEN ? ELSE name END,
	last_login = ?
WHERE issuer = ? AND user_id = ?
RETURNING id, email, name, company, (SELECT c.name FROM companies c WHERE c.id = users.company), role`,
		d.Role, id.Email, id.Email, id.Name, id.Name, now, id.Issuer, id.UserID).
		Scan(&a.ID, &a.Email, &a.Name, &a.Company, &a.CompanyName, &a.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: apply: update user %q of issuer %q: %w", id.UserID, id.Issuer, err)
	}
	return &a, nil
}

// createUser inserts a new user for the identity into the decided company,
// or returns nil when a concurrent login has created it meanwhile.
func createUser(ctx context.Context, t *tx, id *sso.Identity, d *sso.Decision, now int64) (*sso.Account, error) {
	if d.Company == "" {
		return nil, errors.New("store: apply: sign-up decision names no company")
	}
	companyName, err := companyName(ctx, t, d.Company)
	if err != nil {
		return nil, fmt.Errorf("store: apply: sign-up into company %q: %w", d.Company, err)
	}
	role := DefaultRole
	if d.Role != nil {
		role = *d.Role
	}
	a := &sso.Account{ID: newID(), Email: id.Email, Name: id.Name, Company: d.Company, CompanyName: companyName, Role: role}
	res, err := t.exec(ctx, `
INSERT INTO users (id, issuer, user_id, email, name, company, role, created_at, last_login)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (issuer, user_id) DO NOTHING`,
		a.ID, id.Issuer, id.UserID, id.Email, id.Name, a.Company, a.Role, now, now)
	if err != nil {
		return nil, fmt.Errorf("store: apply: create user %q of issuer %q: %w", id.UserID, id.Issuer, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("store: apply: create user %q of issuer %q: %w", id.UserID, id.Issuer, err)
	} else if n == 0 {
		return nil, nil
	}
	return a, nil
}

// syncGroups applies the decided groups to the user's memberships when
// d.SyncGroups is set (see Apply) and returns the user's group names,
// sorted. It reads the user's memberships and the decided groups of its
// company in one query; a new user has no memberships to read.
func syncGroups(ctx context.Context, t *tx, userID, company string, d *sso.Decision, created bool) ([]string, error) {
	if created && (!d.SyncGroups || len(d.Groups) == 0) {
		return []string{}, nil
	}
	decided := []string{}
	if d.SyncGroups {
		decided = nonNil(d.Groups)
	}
	decidedJSON, err := json.Marshal(decided)
	if err != nil {
		return nil, fmt.Errorf("store: apply: %w", err)
	}
	type group struct {
		id     int64
		source string // the user's membership; "" for none
	}
	groups := map[string]group{} // the user's groups and the decided ones
	err = t.each(ctx, `
SELECT g.id, g.name, m.source FROM memberships m JOIN groups g ON g.id = m.group_id WHERE m."user" = ?
UNION ALL
SELECT g.id, g.name, NULL FROM groups g WHERE g.company = ? AND g.name IN (SELECT value FROM json_each(?))`,
		func(rows *sql.Rows) error {
			var name string
			var g group
			var src sql.NullString
			if err := rows.Scan(&g.id, &name, &src); err != nil {
				return err
			}
			g.source = src.String
			if old, ok := groups[name]; !ok || old.source == "" {
				groups[name] = g
			}
			return nil
		}, userID, company, string(decidedJSON))
	if err != nil {
		return nil, fmt.Errorf("store: apply: groups of user %q: %w", userID, err)
	}
	want := make(map[string]bool, len(decided))
	for _, g := range decided {
		want[g] = true
	}
	names := make([]string, 0, len(groups))
	for name, g := range groups {
		keep := g.source != ""
		switch {
		case d.SyncGroups && want[name] && g.source == "":
			if _, err := t.exec(ctx, `INSERT INTO memberships ("user", group_id, source) VALUES (?, ?, 'sso') ON CONFLICT DO NOTHING`,
				userID, g.id); err != nil {
				return nil, fmt.Errorf("store: apply: membership of user %q in group %q: %w", userID, name, err)
			}
			keep = true
		case d.SyncGroups && !want[name] && g.source == SourceSSO:
			// An administrator may have made it an admin membership
			// meanwhile: then it stays.
			res, err := t.exec(ctx, `DELETE FROM memberships WHERE "user" = ? AND group_id = ? AND source = 'sso'`, userID, g.id)
			if err != nil {
				return nil, fmt.Errorf("store: apply: membership of user %q in group %q: %w", userID, name, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return nil, fmt.Errorf("store: apply: membership of user %q in group %q: %w", userID, name, err)
			}
			keep = n == 0
		}
		if keep {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// newID returns a random 128-bit id in hex.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b[:])
}
