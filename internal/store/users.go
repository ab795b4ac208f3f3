package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pingauthz/pingauthz/sso"
)

// Users returns every user, sorted by email then id, each with its group
// names sorted. The list and each user's groups are never nil.
func (s *Store) Users(ctx context.Context) ([]sso.Account, error) {
	var out []sso.Account
	err := s.read(ctx, func(t *tx) error {
		out = []sso.Account{}
		index := map[string]int{}
		err := t.each(ctx, `
SELECT u.id, u.email, u.name, u.company, c.name, u.role FROM users u JOIN companies c ON c.id = u.company
ORDER BY u.email, u.id`, func(rows *sql.Rows) error {
			a := sso.Account{Groups: []string{}, PingGroups: []string{}, Reasons: []string{}}
			if err := rows.Scan(&a.ID, &a.Email, &a.Name, &a.Company, &a.CompanyName, &a.Role); err != nil {
				return err
			}
			index[a.ID] = len(out)
			out = append(out, a)
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: list users: %w", err)
		}
		err = t.each(ctx, `
SELECT m."user", g.name FROM memberships m JOIN groups g ON g.id = m.group_id
ORDER BY m."user", g.name`, func(rows *sql.Rows) error {
			var user, group string
			if err := rows.Scan(&user, &group); err != nil {
				return err
			}
			if i, ok := index[user]; ok {
				out[i].Groups = append(out[i].Groups, group)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: list memberships: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// User returns one user by its store id, or a NotFoundError. PingGroups and
// Reasons are empty: they belong to a session.
func (s *Store) User(ctx context.Context, id string) (*sso.Account, error) {
	rows, err := s.queryDB(ctx, s.r, `
SELECT u.id, u.email, u.name, u.company, c.name, u.role, g.name
FROM users u JOIN companies c ON c.id = u.company
LEFT JOIN memberships m ON m."user" = u.id LEFT JOIN groups g ON g.id = m.group_id
WHERE u.id = ? ORDER BY g.name`, id)
	if err != nil {
		return nil, fmt.Errorf("store: look up user %q: %w", id, err)
	}
	defer rows.Close()
	var a *sso.Account
	for rows.Next() {
		var next sso.Account
		var group sql.NullString
		if err := rows.Scan(&next.ID, &next.Email, &next.Name, &next.Company, &next.CompanyName, &next.Role, &group); err != nil {
			return nil, fmt.Errorf("store: look up user %q: %w", id, err)
		}
		if a == nil {
			next.Groups, next.PingGroups, next.Reasons = []string{}, []string{}, []string{}
			a = &next
		}
		if group.Valid {
			a.Groups = append(a.Groups, group.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: look up user %q: %w", id, err)
	}
	if a == nil {
		return nil, notFound("user", id)
	}
	return a, nil
}

// FindUser returns the user matched by the identity's issuer and user id,
// with the names of all its groups (sorted), or sso.ErrNotFound. It runs one
// statement.
func (s *Store) FindUser(ctx context.Context, issuer, userID string) (*sso.User, error) {
	rows, err := s.queryDB(ctx, s.r, `
SELECT u.id, u.company, u.role, g.name FROM users u
LEFT JOIN memberships m ON m."user" = u.id LEFT JOIN groups g ON g.id = m.group_id
WHERE u.issuer = ? AND u.user_id = ? ORDER BY g.name`, issuer, userID)
	if err != nil {
		return nil, fmt.Errorf("store: find user %q of issuer %q: %w", userID, issuer, err)
	}
	defer rows.Close()
	var u *sso.User
	for rows.Next() {
		var next sso.User
		var group sql.NullString
		if err := rows.Scan(&next.ID, &next.Company, &next.Role, &group); err != nil {
			return nil, fmt.Errorf("store: find user %q of issuer %q: %w", userID, issuer, err)
		}
		if u == nil {
			next.Groups = []string{}
			u = &next
		}
		if group.Valid {
			u.Groups = append(u.Groups, group.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: find user %q of issuer %q: %w", userID, issuer, err)
	}
	if u == nil {
		return nil, sso.ErrNotFound
	}
	return u, nil
}

// companyName returns the name of a company, or a NotFoundError.
func companyName(ctx context.Context, t *tx, id string) (string, error) {
	var name string
	err := t.queryRow(ctx, "SELECT name FROM companies WHERE id = ?", id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("company", id)
	}
	if err != nil {
		return "", fmt.Errorf("store: look up company %q: %w", id, err)
	}
	return name, nil
}
