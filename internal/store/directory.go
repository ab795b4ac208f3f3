package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pingauthz/pingauthz/sso"
)

// FindUser returns the user matched by the identity's issuer and user id,
// with the names of all its groups (sorted), or sso.ErrNotFound.
func (s *Store) FindUser(ctx context.Context, issuer, userID string) (*sso.User, error) {
	var u *sso.User
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = findUser(ctx, tx, issuer, userID)
		return err
	})
	return u, err
}

// findUser is FindUser inside a transaction.
func findUser(ctx context.Context, tx *sql.Tx, issuer, userID string) (*sso.User, error) {
	u, err := findUserRow(ctx, tx, issuer, userID)
	if err != nil {
		return nil, err
	}
	if u.Groups, err = userGroups(ctx, tx, u.ID); err != nil {
		return nil, err
	}
	return u, nil
}

// findUserRow is findUser without the groups.
func findUserRow(ctx context.Context, tx *sql.Tx, issuer, userID string) (*sso.User, error) {
	u := sso.User{}
	err := tx.QueryRowContext(ctx, "SELECT id, company, role FROM users WHERE issuer = ? AND user_id = ?", issuer, userID).
		Scan(&u.ID, &u.Company, &u.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: find user %q of issuer %q: %w", userID, issuer, err)
	}
	return &u, nil
}

// Snapshot returns the companies with their sorted group names and the
// whitelist, read in one transaction. Its maps and slices are never nil.
func (s *Store) Snapshot(ctx context.Context) (*sso.Directory, error) {
	d := &sso.Directory{
		Companies: map[string]sso.Company{},
		Whitelist: sso.Whitelist{Emails: map[string]sso.WhitelistEntry{}, Domains: map[string]sso.WhitelistEntry{}},
	}
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := eachRow(ctx, tx, "SELECT id, name FROM companies", func(rows *sql.Rows) error {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				return err
			}
			d.Companies[id] = sso.Company{Name: name, Groups: []string{}}
			return nil
		}); err != nil {
			return fmt.Errorf("store: snapshot companies: %w", err)
		}
		if err := eachRow(ctx, tx, "SELECT company, name FROM groups ORDER BY company, name", func(rows *sql.Rows) error {
			var company, name string
			if err := rows.Scan(&company, &name); err != nil {
				return err
			}
			c := d.Companies[company]
			c.Groups = append(c.Groups, name)
			d.Companies[company] = c
			return nil
		}); err != nil {
			return fmt.Errorf("store: snapshot groups: %w", err)
		}
		for _, t := range []struct {
			query string
			into  map[string]sso.WhitelistEntry
		}{
			{"SELECT email, company, is_admin FROM whitelist_emails", d.Whitelist.Emails},
			{"SELECT domain, company, is_admin FROM whitelist_domains", d.Whitelist.Domains},
		} {
			if err := eachRow(ctx, tx, t.query, func(rows *sql.Rows) error {
				var key string
				var e sso.WhitelistEntry
				if err := rows.Scan(&key, &e.Company, &e.IsAdmin); err != nil {
					return err
				}
				t.into[key] = e
				return nil
			}); err != nil {
				return fmt.Errorf("store: snapshot whitelist: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// eachRow runs a query and calls fn for every row.
func eachRow(ctx context.Context, tx *sql.Tx, query string, fn func(*sql.Rows) error, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
