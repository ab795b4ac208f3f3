package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/pingauthz/pingauthz/internal/email"
	"github.com/pingauthz/pingauthz/internal/store"
)

func companyAdd(fs *flag.FlagSet) ([]string, adminRun) {
	name := fs.String("name", "", "company `name` (default: the id)")
	return []string{"ID"}, func(ctx context.Context, c *adminCmd, pos []string) error {
		id := pos[0]
		if *name == "" {
			*name = id
		}
		if err := c.st.AddCompany(ctx, id, *name); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "company %s (%s) added\n", id, *name)
		return nil
	}
}

func companyRm(*flag.FlagSet) ([]string, adminRun) {
	return []string{"ID"}, func(ctx context.Context, c *adminCmd, pos []string) error {
		err := c.st.RemoveCompany(ctx, pos[0])
		if inUse := (*store.InUseError)(nil); errors.As(err, &inUse) {
			return fmt.Errorf("admin: company %s still has %d user(s) (see `pingauthz admin user list`); "+
				"a company is removed only once no user belongs to it", pos[0], inUse.Users)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "company %s removed, with its groups and whitelist entries\n", pos[0])
		return nil
	}
}

func companyList(fs *flag.FlagSet) ([]string, adminRun) {
	asJSON := fs.Bool("json", false, "print JSON")
	return nil, func(ctx context.Context, c *adminCmd, _ []string) error {
		companies, err := c.st.Companies(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(c.stdout, companies)
		}
		return table(c.stdout, []string{"ID", "NAME", "USERS", "GROUPS"}, len(companies), func(i int) []any {
			co := companies[i]
			return []any{co.ID, co.Name, co.Users, strings.Join(co.Groups, ", ")}
		})
	}
}

func groupCmd(verb string) func(fs *flag.FlagSet) ([]string, adminRun) {
	return func(fs *flag.FlagSet) ([]string, adminRun) {
		company := fs.String("company", "", "company `id` (required)")
		return []string{"NAME"}, func(ctx context.Context, c *adminCmd, pos []string) error {
			name := pos[0]
			if verb == "add" {
				if err := c.st.AddGroup(ctx, *company, name); err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "group %q added to company %s\n", name, *company)
				return nil
			}
			if err := c.st.RemoveGroup(ctx, *company, name); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "group %q removed from company %s\n", name, *company)
			return nil
		}
	}
}

func groupList(fs *flag.FlagSet) ([]string, adminRun) {
	company := fs.String("company", "", "only the groups of the company with this `id`")
	asJSON := fs.Bool("json", false, "print JSON")
	return nil, func(ctx context.Context, c *adminCmd, _ []string) error {
		groups, err := c.st.Groups(ctx, *company)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(c.stdout, groups)
		}
		return table(c.stdout, []string{"COMPANY", "GROUP", "MEMBERS"}, len(groups), func(i int) []any {
			return []any{groups[i].Company, groups[i].Name, groups[i].Members}
		})
	}
}

func whitelistAdd(fs *flag.FlagSet) ([]string, adminRun) {
	company := fs.String("company", "", "company `id` new users join (required)")
	isAdmin := fs.Bool("admin", false, "users signing up through this entry become administrators")
	return []string{"EMAIL|@DOMAIN"}, func(ctx context.Context, c *adminCmd, pos []string) error {
		key, err := store.WhitelistKey(pos[0])
		if err != nil {
			return err
		}
		if err := c.st.WhitelistAdd(ctx, *company, key, *isAdmin); err != nil {
			return err
		}
		role := "user"
		if *isAdmin {
			role = "admin"
		}
		fmt.Fprintf(c.stdout, "whitelist %s -> company %s (%s)\n", key, *company, role)
		return nil
	}
}

func whitelistRm(fs *flag.FlagSet) ([]string, adminRun) {
	company := fs.String("company", "", "refuse unless the entry belongs to the company with this `id`")
	return []string{"EMAIL|@DOMAIN"}, func(ctx context.Context, c *adminCmd, pos []string) error {
		key, err := store.WhitelistKey(pos[0])
		if err != nil {
			return err
		}
		if err := c.st.WhitelistRemoveIn(ctx, *company, key); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "whitelist %s removed\n", key)
		return nil
	}
}

// whitelistRow is one whitelist entry as `whitelist list --json` prints it.
type whitelistRow struct {
	// Entry is an email, or a domain with a leading "@".
	Entry   string `json:"entry"`
	Company string `json:"company"`
	IsAdmin bool   `json:"is_admin"`
}

func whitelistList(fs *flag.FlagSet) ([]string, adminRun) {
	company := fs.String("company", "", "only the entries of the company with this `id`")
	asJSON := fs.Bool("json", false, "print JSON")
	return nil, func(ctx context.Context, c *adminCmd, _ []string) error {
		dir, err := c.st.Snapshot(ctx)
		if err != nil {
			return err
		}
		if _, ok := dir.Companies[*company]; *company != "" && !ok {
			return fmt.Errorf("admin: company %s not found", *company)
		}
		rows := []whitelistRow{}
		for _, k := range slices.Sorted(maps.Keys(dir.Whitelist.Domains)) {
			e := dir.Whitelist.Domains[k]
			rows = append(rows, whitelistRow{"@" + k, e.Company, e.IsAdmin})
		}
		for _, k := range slices.Sorted(maps.Keys(dir.Whitelist.Emails)) {
			e := dir.Whitelist.Emails[k]
			rows = append(rows, whitelistRow{k, e.Company, e.IsAdmin})
		}
		if *company != "" {
			rows = slices.DeleteFunc(rows, func(r whitelistRow) bool { return r.Company != *company })
		}
		if *asJSON {
			return writeJSON(c.stdout, rows)
		}
		return table(c.stdout, []string{"ENTRY", "COMPANY", "ROLE"}, len(rows), func(i int) []any {
			role := "user"
			if rows[i].IsAdmin {
				role = "admin"
			}
			return []any{rows[i].Entry, rows[i].Company, role}
		})
	}
}

func membershipCmd(verb string) func(fs *flag.FlagSet) ([]string, adminRun) {
	return func(fs *flag.FlagSet) ([]string, adminRun) {
		company := fs.String("company", "", "company `id` (required)")
		user := fs.String("user", "", "user `id or email` (required)")
		return []string{"GROUP"}, func(ctx context.Context, c *adminCmd, pos []string) error {
			group := pos[0]
			id, err := resolveUser(ctx, c.st, *user)
			if err != nil {
				return err
			}
			if verb == "add" {
				if err := c.st.AddMembership(ctx, *company, id, group); err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "user %s added to group %q (manual membership)\n", *user, group)
				return nil
			}
			if err := c.st.RemoveMembership(ctx, *company, id, group); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "user %s removed from group %q\n", *user, group)
			return nil
		}
	}
}

// resolveUser returns the store id of a user given by id or by email. An
// email matches under the one comparison rule of internal/email (ASCII
// letters only are folded), never Unicode case folding, which would take
// "\u212Aate@example.com" for "kate@example.com".
func resolveUser(ctx context.Context, st *store.Store, user string) (string, error) {
	if !strings.Contains(user, "@") {
		return user, nil
	}
	users, err := st.Users(ctx)
	if err != nil {
		return "", err
	}
	want := email.Normalize(user)
	var ids []string
	for _, u := range users {
		if email.Normalize(u.Email) == want {
			ids = append(ids, u.ID)
		}
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("admin: no user has the email %s", user)
	case 1:
		return ids[0], nil
	}
	return "", fmt.Errorf("admin: %d users have the email %s (%s); pass --user with an id", len(ids), user, strings.Join(ids, ", "))
}

func userList(fs *flag.FlagSet) ([]string, adminRun) {
	asJSON := fs.Bool("json", false, "print JSON")
	return nil, func(ctx context.Context, c *adminCmd, _ []string) error {
		users, err := c.st.Users(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(c.stdout, users)
		}
		return table(c.stdout, []string{"ID", "EMAIL", "NAME", "COMPANY", "ROLE", "GROUPS"}, len(users), func(i int) []any {
			u := users[i]
			return []any{u.ID, u.Email, u.Name, u.Company, u.Role, strings.Join(u.Groups, ", ")}
		})
	}
}

// table prints a header and n rows as aligned columns.
func table(w io.Writer, header []string, n int, row func(i int) []any) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for i := range n {
		cells := row(i)
		for j, c := range cells {
			if j > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
