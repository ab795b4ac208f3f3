package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Membership sources: who granted a membership. Login sync adds and removes
// only SSO memberships; admin ones stay until an administrator removes them.
const (
	SourceSSO   = "sso"
	SourceAdmin = "admin"
)

// AddCompany creates a company. It fails with an *ExistsError when the id is
// taken; it does not rename an existing company.
func (s *Store) AddCompany(ctx context.Context, id, name string) error {
	if err := checkName("company id", id); err != nil {
		return err
	}
	if err := checkName("company name", name); err != nil {
		return err
	}
	return s.writeDirectory(ctx, func(t *tx) error {
		ok, err := companyExists(ctx, t, id)
		if err != nil {
			return err
		}
		if ok {
			return &ExistsError{Kind: "company", Key: fmt.Sprintf("%q", id)}
		}
		if _, err := t.exec(ctx, "INSERT INTO companies (id, name) VALUES (?, ?)", id, name); err != nil {
			return fmt.Errorf("store: add company %q: %w", id, err)
		}
		return nil
	})
}

// RemoveCompany deletes a company with its groups and whitelist entries. It
// is refused with an *InUseError while users belong to the company (the
// database refuses it too, so a concurrent sign-up cannot slip in).
func (s *Store) RemoveCompany(ctx context.Context, id string) error {
	return s.writeDirectory(ctx, func(t *tx) error {
		if err := requireCompany(ctx, t, id); err != nil {
			return err
		}
		var users int
		if err := t.queryRow(ctx, "SELECT count(*) FROM users WHERE company = ?", id).Scan(&users); err != nil {
			return fmt.Errorf("store: count the users of company %q: %w", id, err)
		}
		if users > 0 {
			return &InUseError{Kind: "company", Key: fmt.Sprintf("%q", id), Users: users}
		}
		// ON DELETE CASCADE removes the groups and whitelist entries.
		if _, err := t.exec(ctx, "DELETE FROM companies WHERE id = ?", id); err != nil {
			return fmt.Errorf("store: remove company %q: %w", id, err)
		}
		return nil
	})
}

// CompanyInfo is a company as an administrator lists it.
type CompanyInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Groups are the names of its groups, sorted; never nil.
	Groups []string `json:"groups"`
	// Users is how many users belong to it.
	Users int `json:"users"`
}

// Companies returns every company sorted by id, with its groups and its
// number of users.
func (s *Store) Companies(ctx context.Context) ([]CompanyInfo, error) {
	out := []CompanyInfo{}
	err := s.read(ctx, func(t *tx) error {
		out = out[:0]
		index := map[string]int{}
		err := t.each(ctx, `
SELECT c.id, c.name, (SELECT count(*) FROM users u WHERE u.company = c.id) FROM companies c ORDER BY c.id`,
			func(rows *sql.Rows) error {
				c := CompanyInfo{Groups: []string{}}
				if err := rows.Scan(&c.ID, &c.Name, &c.Users); err != nil {
					return err
				}
				index[c.ID] = len(out)
				out = append(out, c)
				return nil
			})
		if err != nil {
			return fmt.Errorf("store: list companies: %w", err)
		}
		return t.each(ctx, "SELECT company, name FROM groups ORDER BY company, name", func(rows *sql.Rows) error {
			var company, name string
			if err := rows.Scan(&company, &name); err != nil {
				return fmt.Errorf("store: list groups: %w", err)
			}
			c := &out[index[company]]
			c.Groups = append(c.Groups, name)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GroupInfo is a group as an administrator lists it.
type GroupInfo struct {
	Company string `json:"company"`
	Name    string `json:"name"`
	// Members is how many users are members, whatever granted it.
	Members int `json:"members"`
}

// Groups returns the groups of one company, or of every company when
// company is "", sorted by company then name, with their member counts. An
// unknown company is a NotFoundError.
func (s *Store) Groups(ctx context.Context, company string) ([]GroupInfo, error) {
	out := []GroupInfo{}
	err := s.read(ctx, func(t *tx) error {
		out = out[:0]
		if company != "" {
			if err := requireCompany(ctx, t, company); err != nil {
				return err
			}
		}
		return t.each(ctx, `
SELECT g.company, g.name, (SELECT count(*) FROM memberships m WHERE m.group_id = g.id) FROM groups g
WHERE ? = '' OR g.company = ? ORDER BY g.company, g.name`, func(rows *sql.Rows) error {
			var g GroupInfo
			if err := rows.Scan(&g.Company, &g.Name, &g.Members); err != nil {
				return fmt.Errorf("store: list groups: %w", err)
			}
			out = append(out, g)
			return nil
		}, company, company)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AddGroup creates a group in a company. Group names are unique per company
// and compared exactly (case included).
func (s *Store) AddGroup(ctx context.Context, company, name string) error {
	if err := checkName("group name", name); err != nil {
		return err
	}
	return s.writeDirectory(ctx, func(t *tx) error {
		if err := requireCompany(ctx, t, company); err != nil {
			return err
		}
		_, err := groupID(ctx, t, company, name)
		if err == nil {
			return &ExistsError{Kind: "group", Key: fmt.Sprintf("%q in company %q", name, company)}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := t.exec(ctx, "INSERT INTO groups (company, name) VALUES (?, ?)", company, name); err != nil {
			return fmt.Errorf("store: add group %q to company %q: %w", name, company, err)
		}
		return nil
	})
}

// RemoveGroup deletes a group and every membership in it, whatever granted
// it.
func (s *Store) RemoveGroup(ctx context.Context, company, name string) error {
	return s.writeDirectory(ctx, func(t *tx) error {
		if err := requireCompany(ctx, t, company); err != nil {
			return err
		}
		gid, err := requireGroup(ctx, t, company, name)
		if err != nil {
			return err
		}
		// ON DELETE CASCADE removes the memberships.
		if _, err := t.exec(ctx, "DELETE FROM groups WHERE id = ?", gid); err != nil {
			return fmt.Errorf("store: remove group %q from company %q: %w", name, company, err)
		}
		return nil
	})
}

// AddMembership makes a user a member of a group of its company as an
// administrator's grant, which login sync never removes. An existing SSO
// membership becomes an admin one; an existing admin one is left as it is.
// userID is the store's user id (Account.ID).
func (s *Store) AddMembership(ctx context.Context, company, userID, group string) error {
	return s.write(ctx, func(t *tx) error {
		gid, err := checkMembershipArgs(ctx, t, company, userID, group)
		if err != nil {
			return err
		}
		_, err = t.exec(ctx, `
INSERT INTO memberships ("user", group_id, source) VALUES (?, ?, 'admin')
ON CONFLICT ("user", group_id) DO UPDATE SET source = 'admin'`, userID, gid)
		if err != nil {
			return fmt.Errorf("store: add user %q to group %q: %w", userID, group, err)
		}
		return nil
	})
}

// RemoveMembership removes a user from a group of its company, whatever
// granted the membership. A login with group sync may grant it again.
func (s *Store) RemoveMembership(ctx context.Context, company, userID, group string) error {
	return s.write(ctx, func(t *tx) error {
		gid, err := checkMembershipArgs(ctx, t, company, userID, group)
		if err != nil {
			return err
		}
		res, err := t.exec(ctx, `DELETE FROM memberships WHERE "user" = ? AND group_id = ?`, userID, gid)
		if err != nil {
			return fmt.Errorf("store: remove user %q from group %q: %w", userID, group, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: remove user %q from group %q: %w", userID, group, err)
		} else if n == 0 {
			return &NotFoundError{Kind: "membership", Key: fmt.Sprintf("of user %q in group %q", userID, group)}
		}
		return nil
	})
}

// checkMembershipArgs checks that the company, the user and the group exist
// and that the user belongs to the company; it returns the group's row id.
func checkMembershipArgs(ctx context.Context, t *tx, company, userID, group string) (int64, error) {
	if err := requireCompany(ctx, t, company); err != nil {
		return 0, err
	}
	var userCompany string
	err := t.queryRow(ctx, "SELECT company FROM users WHERE id = ?", userID).Scan(&userCompany)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("user", userID)
	}
	if err != nil {
		return 0, fmt.Errorf("store: look up user %q: %w", userID, err)
	}
	if userCompany != company {
		return 0, fmt.Errorf("store: user %q is in company %q, not %q", userID, userCompany, company)
	}
	return requireGroup(ctx, t, company, group)
}

// companyExists reports whether a company exists.
func companyExists(ctx context.Context, t *tx, id string) (bool, error) {
	var one int
	err := t.queryRow(ctx, "SELECT 1 FROM companies WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: look up company %q: %w", id, err)
	}
	return true, nil
}

// requireCompany fails with a NotFoundError when the company does not exist.
func requireCompany(ctx context.Context, t *tx, id string) error {
	ok, err := companyExists(ctx, t, id)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("company", id)
	}
	return nil
}

// groupID returns the row id of a company's group, or sql.ErrNoRows.
func groupID(ctx context.Context, t *tx, company, name string) (int64, error) {
	var id int64
	err := t.queryRow(ctx, "SELECT id FROM groups WHERE company = ? AND name = ?", company, name).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: look up group %q in company %q: %w", name, company, err)
	}
	return id, err
}

// requireGroup is groupID with a NotFoundError for a missing group.
func requireGroup(ctx context.Context, t *tx, company, name string) (int64, error) {
	id, err := groupID(ctx, t, company, name)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, &NotFoundError{Kind: "group", Key: fmt.Sprintf("%q in company %q", name, company)}
	}
	return id, err
}
