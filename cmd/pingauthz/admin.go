package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/pingauthz/pingauthz/internal/store"
)

const adminUsage = `Usage: pingauthz admin --db PATH COMMAND

Manages the server's directory. A running server picks the changes up within
its --directory-poll interval.

Commands:
  company add ID [--name NAME]
  company list [--json]
  group add|rm --company ID NAME
  whitelist add --company ID [--admin] EMAIL|@DOMAIN
  whitelist rm [--company ID] EMAIL|@DOMAIN
  membership add|rm --company ID --user USER GROUP   (USER: user id or email)
  user list [--json]

Flags:
`

// adminCmd is one `pingauthz admin` command.
type adminCmd struct {
	st             *store.Store
	stdout, stderr io.Writer
}

// runAdmin runs `pingauthz admin`.
func runAdmin(ctx context.Context, env *cliEnv, args []string) error {
	stdout, stderr := env.stdout, env.stderr
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, adminUsage)
		fs.PrintDefaults()
	}
	db := fs.String("db", "", "SQLite database `file` (required)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErr("%v", err)
	}
	if *db == "" {
		return usageErr("admin: --db is required")
	}
	rest := fs.Args()
	if len(rest) < 2 {
		fs.Usage()
		return usageErr("admin: want a command, e.g. `company add ID`")
	}
	noun, verb, rest := rest[0], rest[1], rest[2:]
	run, readOnly, err := adminCommand(noun, verb)
	if err != nil {
		return err
	}
	// Parse the command's own arguments before touching the database.
	call, err := run(rest)
	if err != nil {
		return err
	}
	created := false
	if readOnly {
		if _, err := os.Stat(*db); err != nil {
			return fmt.Errorf("admin: --db %s: %w", *db, err)
		}
	} else if _, err := os.Stat(*db); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "pingauthz: creating the database %s\n", *db)
		created = true
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := call(ctx, &adminCmd{st: st, stdout: stdout, stderr: stderr}); err != nil {
		if created {
			removeIfEmpty(ctx, st, *db, stderr)
		}
		return err
	}
	return st.Close()
}

// removeIfEmpty closes st and deletes the database file at path, which the
// failed command created, so that a failed command leaves nothing behind.
// It keeps the file when it holds a company or a user (another process
// may have started using it meanwhile).
func removeIfEmpty(ctx context.Context, st *store.Store, path string, stderr io.Writer) {
	dir, err := st.Snapshot(ctx)
	if err != nil || len(dir.Companies) > 0 {
		return
	}
	if users, err := st.Users(ctx); err != nil || len(users) > 0 {
		return
	}
	if err := st.Close(); err != nil {
		return
	}
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(stderr, "pingauthz: removing the new database: %v\n", err)
		}
	}
}

// adminRun parses a command's arguments and returns what it will do.
type adminRun func(args []string) (func(context.Context, *adminCmd) error, error)

// adminCommand looks up noun verb; readOnly commands need an existing database.
func adminCommand(noun, verb string) (run adminRun, readOnly bool, err error) {
	switch noun + " " + verb {
	case "company add":
		return companyAdd, false, nil
	case "company list":
		return companyList, true, nil
	case "group add", "group rm":
		return groupCmd(verb), false, nil
	case "whitelist add", "whitelist rm":
		return whitelistCmd(verb), false, nil
	case "membership add", "membership rm":
		return membershipCmd(verb), false, nil
	case "user list":
		return userList, true, nil
	}
	return nil, false, usageErr("admin: unknown command %q; run `pingauthz admin -h` for the list", noun+" "+verb)
}

// parseArgs parses flags anywhere among the arguments (up to "--") and
// returns the positional ones, which must number exactly want.
func parseArgs(fs *flag.FlagSet, args []string, want int, names string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageErr("admin %s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) != want {
		return nil, usageErr("admin %s: want %s, got %d argument(s)", fs.Name(), names, len(pos))
	}
	return pos, nil
}

func requireFlag(cmd, name, v string) error {
	if v == "" {
		return usageErr("admin %s: --%s is required", cmd, name)
	}
	return nil
}

func companyAdd(args []string) (func(context.Context, *adminCmd) error, error) {
	fs := flag.NewFlagSet("company add", flag.ContinueOnError)
	name := fs.String("name", "", "company name (default: the id)")
	pos, err := parseArgs(fs, args, 1, "ID")
	if err != nil {
		return nil, err
	}
	id := pos[0]
	if *name == "" {
		*name = id
	}
	return func(ctx context.Context, c *adminCmd) error {
		if err := c.st.AddCompany(ctx, id, *name); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "company %s (%s) added\n", id, *name)
		return nil
	}, nil
}

func companyList(args []string) (func(context.Context, *adminCmd) error, error) {
	fs := flag.NewFlagSet("company list", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseArgs(fs, args, 0, "no arguments"); err != nil {
		return nil, err
	}
	return func(ctx context.Context, c *adminCmd) error {
		dir, err := c.st.Snapshot(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(c.stdout, dir)
		}
		ids := make([]string, 0, len(dir.Companies))
		for id := range dir.Companies {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tGROUPS")
		for _, id := range ids {
			co := dir.Companies[id]
			fmt.Fprintf(tw, "%s\t%s\t%s\n", id, co.Name, strings.Join(co.Groups, ", "))
		}
		return tw.Flush()
	}, nil
}

func groupCmd(verb string) adminRun {
	return func(args []string) (func(context.Context, *adminCmd) error, error) {
		fs := flag.NewFlagSet("group "+verb, flag.ContinueOnError)
		company := fs.String("company", "", "company id (required)")
		pos, err := parseArgs(fs, args, 1, "NAME")
		if err != nil {
			return nil, err
		}
		if err := requireFlag(fs.Name(), "company", *company); err != nil {
			return nil, err
		}
		name := pos[0]
		return func(ctx context.Context, c *adminCmd) error {
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
		}, nil
	}
}

func whitelistCmd(verb string) adminRun {
	return func(args []string) (func(context.Context, *adminCmd) error, error) {
		fs := flag.NewFlagSet("whitelist "+verb, flag.ContinueOnError)
		company := fs.String("company", "", "company id (required to add)")
		isAdmin := false
		if verb == "add" {
			fs.BoolVar(&isAdmin, "admin", false, "users signing up through this entry become administrators")
		}
		pos, err := parseArgs(fs, args, 1, "EMAIL or @DOMAIN")
		if err != nil {
			return nil, err
		}
		entry := pos[0]
		if verb == "add" {
			if err := requireFlag(fs.Name(), "company", *company); err != nil {
				return nil, err
			}
			return func(ctx context.Context, c *adminCmd) error {
				if err := c.st.WhitelistAdd(ctx, *company, entry, isAdmin); err != nil {
					return err
				}
				role := "user"
				if isAdmin {
					role = "admin"
				}
				fmt.Fprintf(c.stdout, "whitelist %s -> company %s (%s)\n", entry, *company, role)
				return nil
			}, nil
		}
		return func(ctx context.Context, c *adminCmd) error {
			if *company != "" {
				if err := checkWhitelistCompany(ctx, c.st, entry, *company); err != nil {
					return err
				}
			}
			if err := c.st.WhitelistRemove(ctx, entry); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "whitelist %s removed\n", entry)
			return nil
		}, nil
	}
}

// checkWhitelistCompany fails when entry exists for another company than
// company, so a removal with --company cannot hit the wrong one.
func checkWhitelistCompany(ctx context.Context, st *store.Store, entry, company string) error {
	dir, err := st.Snapshot(ctx)
	if err != nil {
		return err
	}
	key := strings.ToLower(entry)
	e, ok := dir.Whitelist.Emails[key]
	if d, isDomain := strings.CutPrefix(key, "@"); isDomain {
		e, ok = dir.Whitelist.Domains[d]
	}
	if ok && e.Company != company {
		return fmt.Errorf("admin: whitelist entry %s belongs to company %s, not %s", entry, e.Company, company)
	}
	return nil
}

func membershipCmd(verb string) adminRun {
	return func(args []string) (func(context.Context, *adminCmd) error, error) {
		fs := flag.NewFlagSet("membership "+verb, flag.ContinueOnError)
		company := fs.String("company", "", "company id (required)")
		user := fs.String("user", "", "user id or email (required)")
		pos, err := parseArgs(fs, args, 1, "GROUP")
		if err != nil {
			return nil, err
		}
		if err := requireFlag(fs.Name(), "company", *company); err != nil {
			return nil, err
		}
		if err := requireFlag(fs.Name(), "user", *user); err != nil {
			return nil, err
		}
		group := pos[0]
		return func(ctx context.Context, c *adminCmd) error {
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
		}, nil
	}
}

// resolveUser returns the store id of a user given by id or by email.
func resolveUser(ctx context.Context, st *store.Store, user string) (string, error) {
	if !strings.Contains(user, "@") {
		return user, nil
	}
	users, err := st.Users(ctx)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, u := range users {
		if strings.EqualFold(u.Email, user) {
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

func userList(args []string) (func(context.Context, *adminCmd) error, error) {
	fs := flag.NewFlagSet("user list", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseArgs(fs, args, 0, "no arguments"); err != nil {
		return nil, err
	}
	return func(ctx context.Context, c *adminCmd) error {
		users, err := c.st.Users(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(c.stdout, users)
		}
		tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tCOMPANY\tROLE\tGROUPS")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, u.Company, u.Role, strings.Join(u.Groups, ", "))
		}
		return tw.Flush()
	}, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
