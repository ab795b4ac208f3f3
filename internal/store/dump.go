package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// DumpFormat names the JSON document Export writes and Import reads.
const DumpFormat = "pingauthz-directory-1"

// Dump is a whole directory, independent of the engine: what moves a
// directory from one database to another. Times are Unix milliseconds.
type Dump struct {
	Format string `json:"format"`
	// SchemaVersion is the schema version of the exporting database, for
	// the record; Import reads any dump of DumpFormat.
	SchemaVersion int              `json:"schema_version"`
	Companies     []DumpCompany    `json:"companies"`
	Groups        []DumpGroup      `json:"groups"`
	Whitelist     []DumpWhitelist  `json:"whitelist"`
	Users         []DumpUser       `json:"users"`
	Memberships   []DumpMembership `json:"memberships"`
	// Sessions is omitted by Export without sessions.
	Sessions []DumpSession `json:"sessions,omitempty"`
	// LoginStates are the consumed login states not yet pruned, so that
	// a callback replayed across the move is still refused.
	LoginStates []DumpLoginState `json:"login_states"`
}

// DumpCompany is a company of a Dump.
type DumpCompany struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// DumpGroup is a group of a Dump.
type DumpGroup struct {
	Company string `json:"company"`
	Name    string `json:"name"`
}

// DumpWhitelist is a whitelist entry of a Dump: an email or "@domain".
type DumpWhitelist struct {
	Entry   string `json:"entry"`
	Company string `json:"company"`
	IsAdmin bool   `json:"is_admin"`
}

// DumpUser is a user of a Dump.
type DumpUser struct {
	ID        string `json:"id"`
	Issuer    string `json:"issuer"`
	UserID    string `json:"user_id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Company   string `json:"company"`
	Role      string `json:"role"`
	CreatedAt int64  `json:"created_at"`
	LastLogin *int64 `json:"last_login"`
}

// DumpMembership is a membership of a Dump; the group is named by its
// company and name.
type DumpMembership struct {
	User    string `json:"user"`
	Company string `json:"company"`
	Group   string `json:"group"`
	Source  string `json:"source"`
}

// DumpSession is a session of a Dump. TokenHash is the SHA-256 of the
// token (the token itself is never stored).
type DumpSession struct {
	TokenHash  []byte   `json:"token_hash"`
	User       string   `json:"user"`
	CreatedAt  int64    `json:"created_at"`
	ExpiresAt  int64    `json:"expires_at"`
	LastUsed   int64    `json:"last_used"`
	PingGroups []string `json:"ping_groups"`
	Reasons    []string `json:"reasons"`
}

// DumpLoginState is a consumed login state of a Dump.
type DumpLoginState struct {
	ID        string `json:"id"`
	ExpiresAt int64  `json:"expires_at"`
}

// Export reads the whole directory in one transaction, sessions included
// when sessions is set. Every list is sorted and never nil.
func (s *Store) Export(ctx context.Context, sessions bool) (*Dump, error) {
	var d *Dump
	err := s.read(ctx, func(t *tx) error {
		d = &Dump{Format: DumpFormat, SchemaVersion: KnownSchemaVersion(),
			Companies: []DumpCompany{}, Groups: []DumpGroup{}, Whitelist: []DumpWhitelist{},
			Users: []DumpUser{}, Memberships: []DumpMembership{}, LoginStates: []DumpLoginState{}}
		if sessions {
			d.Sessions = []DumpSession{}
		}
		steps := []struct {
			what, q string
			row     func(*sql.Rows) error
		}{
			{"companies", "SELECT id, name FROM companies ORDER BY id", func(r *sql.Rows) error {
				var c DumpCompany
				err := r.Scan(&c.ID, &c.Name)
				d.Companies = append(d.Companies, c)
				return err
			}},
			{"groups", "SELECT company, name FROM groups ORDER BY company, name", func(r *sql.Rows) error {
				var g DumpGroup
				err := r.Scan(&g.Company, &g.Name)
				d.Groups = append(d.Groups, g)
				return err
			}},
			{"whitelist", `
SELECT '@' || domain, company, is_admin FROM whitelist_domains
UNION ALL SELECT email, company, is_admin FROM whitelist_emails ORDER BY 1`, func(r *sql.Rows) error {
				var w DumpWhitelist
				err := r.Scan(&w.Entry, &w.Company, &w.IsAdmin)
				d.Whitelist = append(d.Whitelist, w)
				return err
			}},
			{"users", `
SELECT id, issuer, user_id, email, name, company, role, created_at, last_login FROM users ORDER BY id`, func(r *sql.Rows) error {
				var u DumpUser
				var last sql.NullInt64
				err := r.Scan(&u.ID, &u.Issuer, &u.UserID, &u.Email, &u.Name, &u.Company, &u.Role, &u.CreatedAt, &last)
				if last.Valid {
					u.LastLogin = &last.Int64
				}
				d.Users = append(d.Users, u)
				return err
			}},
			{"memberships", `
SELECT m."user", g.company, g.name, m.source FROM memberships m JOIN groups g ON g.id = m.group_id
ORDER BY m."user", g.company, g.name`, func(r *sql.Rows) error {
				var m DumpMembership
				err := r.Scan(&m.User, &m.Company, &m.Group, &m.Source)
				d.Memberships = append(d.Memberships, m)
				return err
			}},
			{"login states", "SELECT id, expires_at FROM login_states ORDER BY id", func(r *sql.Rows) error {
				var l DumpLoginState
				err := r.Scan(&l.ID, &l.ExpiresAt)
				d.LoginStates = append(d.LoginStates, l)
				return err
			}},
		}
		if sessions {
			steps = append(steps, struct {
				what, q string
				row     func(*sql.Rows) error
			}{"sessions", `
SELECT token_hash, "user", created_at, expires_at, last_used, ping_groups, reasons FROM sessions ORDER BY token_hash`,
				func(r *sql.Rows) error {
					var ss DumpSession
					var groups, reasons string
					if err := r.Scan(&ss.TokenHash, &ss.User, &ss.CreatedAt, &ss.ExpiresAt, &ss.LastUsed, &groups, &reasons); err != nil {
						return err
					}
					if err := errors.Join(json.Unmarshal([]byte(groups), &ss.PingGroups), json.Unmarshal([]byte(reasons), &ss.Reasons)); err != nil {
						return err
					}
					d.Sessions = append(d.Sessions, ss)
					return nil
				}})
		}
		for _, st := range steps {
			if err := t.each(ctx, st.q, st.row); err != nil {
				return fmt.Errorf("store: export %s: %w", st.what, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Import writes a dump into an empty directory (no company, user or
// session), in one transaction: on any error nothing is imported. Groups
// get new row ids; everything else keeps its identity, so users keep their
// ids and sessions stay valid.
func (s *Store) Import(ctx context.Context, d *Dump) error {
	if d.Format != DumpFormat {
		return fmt.Errorf("store: import: format %q, want %q", d.Format, DumpFormat)
	}
	return s.writeDirectory(ctx, func(t *tx) error {
		var n int64
		if err := t.queryRow(ctx, `
SELECT (SELECT count(*) FROM companies) + (SELECT count(*) FROM users) + (SELECT count(*) FROM sessions)`).Scan(&n); err != nil {
			return fmt.Errorf("store: import: %w", err)
		}
		if n > 0 {
			return errors.New("store: import: the database already holds a directory; import only into a new, empty one")
		}
		for _, c := range d.Companies {
			if err := errors.Join(checkName("company id", c.ID), checkName("company name", c.Name)); err != nil {
				return fmt.Errorf("store: import: %w", err)
			}
			if _, err := t.exec(ctx, "INSERT INTO companies (id, name) VALUES (?, ?)", c.ID, c.Name); err != nil {
				return fmt.Errorf("store: import company %q: %w", c.ID, err)
			}
		}
		groupIDs := map[DumpGroup]int64{}
		for _, g := range d.Groups {
			if err := checkName("group name", g.Name); err != nil {
				return fmt.Errorf("store: import: %w", err)
			}
			var id int64
			if err := t.queryRow(ctx, "INSERT INTO groups (company, name) VALUES (?, ?) RETURNING id", g.Company, g.Name).Scan(&id); err != nil {
				return fmt.Errorf("store: import group %q of company %q: %w", g.Name, g.Company, err)
			}
			groupIDs[g] = id
		}
		for _, w := range d.Whitelist {
			if err := insertWhitelist(ctx, t, w.Company, w.Entry, w.IsAdmin); err != nil {
				return fmt.Errorf("store: import: %w", err)
			}
		}
		for _, u := range d.Users {
			if _, err := t.exec(ctx, `
INSERT INTO users (id, issuer, user_id, email, name, company, role, created_at, last_login)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, u.ID, u.Issuer, u.UserID, u.Email, u.Name, u.Company, u.Role, u.CreatedAt, u.LastLogin); err != nil {
				return fmt.Errorf("store: import user %q: %w", u.ID, err)
			}
		}
		for _, m := range d.Memberships {
			gid, ok := groupIDs[DumpGroup{Company: m.Company, Name: m.Group}]
			if !ok {
				return fmt.Errorf("store: import: membership of user %q in group %q of company %q: no such group", m.User, m.Group, m.Company)
			}
			if _, err := t.exec(ctx, `INSERT INTO memberships ("user", group_id, source) VALUES (?, ?, ?)`, m.User, gid, m.Source); err != nil {
				return fmt.Errorf("store: import membership of user %q in group %q: %w", m.User, m.Group, err)
			}
		}
		for _, ss := range d.Sessions {
			groups, err := json.Marshal(nonNil(ss.PingGroups))
			if err != nil {
				return fmt.Errorf("store: import: %w", err)
			}
			reasons, err := json.Marshal(nonNil(ss.Reasons))
			if err != nil {
				return fmt.Errorf("store: import: %w", err)
			}
			if _, err := t.exec(ctx, `
INSERT INTO sessions (token_hash, "user", created_at, expires_at, last_used, ping_groups, reasons) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				ss.TokenHash, ss.User, ss.CreatedAt, ss.ExpiresAt, ss.LastUsed, string(groups), string(reasons)); err != nil {
				return fmt.Errorf("store: import a session of user %q: %w", ss.User, err)
			}
		}
		for _, l := range d.LoginStates {
			if _, err := t.exec(ctx, "INSERT INTO login_states (id, expires_at) VALUES (?, ?)", l.ID, l.ExpiresAt); err != nil {
				return fmt.Errorf("store: import login state: %w", err)
			}
		}
		return nil
	})
}
