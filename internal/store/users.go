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
	out := []sso.Account{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
SELECT u.id, u.email, u.name, u.company, c.name, u.role FROM users u JOIN companies c ON c.id = u.company
ORDER BY u.email, u.id`)
		if err != nil {
			return fmt.Errorf("store: list users: %w", err)
		}
		index := map[string]int{}
		for rows.Next() {
			a := sso.Account{Groups: []string{}, PingGroups: []string{}, Reasons: []string{}}
			if err := rows.Scan(&a.ID, &a.Email, &a.Name, &a.Company, &a.CompanyName, &a.Role); err != nil {
				rows.Close()
				return fmt.Errorf("store: list users: %w", err)
			}
			index[a.ID] = len(out)
			out = append(out, a)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("store: list users: %w", err)
		}

		rows, err = tx.QueryContext(ctx, `
SELECT m.user, g.name FROM memberships m JOIN groups g ON g.id = m.group_id
ORDER BY m.user, g.name`)
		if err != nil {
			return fmt.Errorf("store: list memberships: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var user, group string
			if err := rows.Scan(&user, &group); err != nil {
				return fmt.Errorf("store: list memberships: %w", err)
			}
			if i, ok := index[user]; ok {
				out[i].Groups = append(out[i].Groups, group)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: list memberships: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// User returns one user by its store id, or a NotFoundError.
func (s *Store) User(ctx context.Context, id string) (*sso.Account, error) {
	var a *sso.Account
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = account(ctx, tx, id)
		return err
	})
	return a, err
}

// account loads one user with its company's name and its sorted group
// names. PingGroups and Reasons are empty: they belong to a session.
func account(ctx context.Context, tx *sql.Tx, id string) (*sso.Account, error) {
	a := sso.Account{PingGroups: []string{}, Reasons: []string{}}
	err := tx.QueryRowContext(ctx, `
SELECT u.id, u.email, u.name, u.company, c.name, u.role FROM users u JOIN companies c ON c.id = u.company
WHERE u.id = ?`, id).
		Scan(&a.ID, &a.Email, &a.Name, &a.Company, &a.CompanyName, &a.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: look up user %q: %w", id, err)
	}
	if a.Groups, err = userGroups(ctx, tx, id); err != nil {
		return nil, err
	}
	return &a, nil
}

// userGroups returns the sorted names of the groups a user is a member of
// (never nil).
func userGroups(ctx context.Context, tx *sql.Tx, id string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `
SELECT g.name FROM memberships m JOIN groups g ON g.id = m.group_id
WHERE m.user = ? ORDER BY g.name`, id)
	if err != nil {
		return nil, fmt.Errorf("store: groups of user %q: %w", id, err)
	}
	defer rows.Close()
	groups := []string{}
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, fmt.Errorf("store: groups of user %q: %w", id, err)
		}
		groups = append(groups, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: groups of user %q: %w", id, err)
	}
	return groups, nil
}
