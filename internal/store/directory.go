package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pingauthz/pingauthz/sso"
)

// Snapshot returns the companies with their sorted group names and the
// whitelist, read in one transaction. Its maps and slices are never nil.
func (s *Store) Snapshot(ctx context.Context) (*sso.Directory, error) {
	d, _, err := s.VersionedSnapshot(ctx)
	return d, err
}

// VersionedSnapshot is Snapshot with the directory version it shows: a
// number that every change to companies, groups or the whitelist, made by
// any process, increases (see DirectoryVersion).
func (s *Store) VersionedSnapshot(ctx context.Context) (*sso.Directory, int64, error) {
	var d *sso.Directory
	var version int64
	err := s.read(ctx, func(t *tx) error {
		d = &sso.Directory{
			Companies: map[string]sso.Company{},
			Whitelist: sso.Whitelist{Emails: map[string]sso.WhitelistEntry{}, Domains: map[string]sso.WhitelistEntry{}},
		}
		if err := t.queryRow(ctx, "SELECT version FROM directory_version WHERE id = 1").Scan(&version); err != nil {
			return fmt.Errorf("store: snapshot version: %w", err)
		}
		if err := t.each(ctx, "SELECT id, name FROM companies", func(rows *sql.Rows) error {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				return err
			}
			d.Companies[id] = sso.Company{Name: name, Groups: []string{}}
			return nil
		}); err != nil {
			return fmt.Errorf("store: snapshot companies: %w", err)
		}
		if err := t.each(ctx, "SELECT company, name FROM groups ORDER BY company, name", func(rows *sql.Rows) error {
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
		for _, q := range []struct {
			query string
			into  map[string]sso.WhitelistEntry
		}{
			{"SELECT email, company, is_admin FROM whitelist_emails", d.Whitelist.Emails},
			{"SELECT domain, company, is_admin FROM whitelist_domains", d.Whitelist.Domains},
		} {
			if err := t.each(ctx, q.query, func(rows *sql.Rows) error {
				var key string
				var e sso.WhitelistEntry
				if err := rows.Scan(&key, &e.Company, &e.IsAdmin); err != nil {
					return err
				}
				q.into[key] = e
				return nil
			}); err != nil {
				return fmt.Errorf("store: snapshot whitelist: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return d, version, nil
}

// DirectoryVersion returns the directory version (see VersionedSnapshot)
// with one cheap read.
func (s *Store) DirectoryVersion(ctx context.Context) (int64, error) {
	rows, err := s.queryDB(ctx, s.r, "SELECT version FROM directory_version WHERE id = 1")
	if err != nil {
		return 0, fmt.Errorf("store: read the directory version: %w", err)
	}
	defer rows.Close()
	var v int64
	if !rows.Next() {
		return 0, fmt.Errorf("store: read the directory version: %w", errors.Join(rows.Err(), errors.New("no row")))
	}
	if err := rows.Scan(&v); err != nil {
		return 0, fmt.Errorf("store: read the directory version: %w", err)
	}
	return v, rows.Err()
}
