package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pingauthz/pingauthz/internal/store"
)

const adminUsageHead = `Usage: pingauthz admin --db PATH|URL COMMAND [arguments]

Manages the server's directory: a SQLite file or a PostgreSQL database
(--db postgres://user@host/name). Running servers pick the changes up within
a second. --db may also follow the command.

Commands:
`

const adminUsageTail = `
Run ` + "`pingauthz admin COMMAND -h`" + ` for a command's arguments.

Flags:
`

// adminSpec is one `pingauthz admin` command.
type adminSpec struct {
	name    string // "company add"
	args    string // the synopsis after the name
	summary string
	// existing: the command needs an existing database; the others
	// create a SQLite file that does not exist.
	existing bool
	// required names the flags that must be set.
	required []string
	// define adds the command's flags to fs and returns its positional
	// argument names (exactly that many are wanted) and what it does.
	define func(fs *flag.FlagSet) (args []string, run adminRun)
}

// adminRun runs a parsed command with its positional arguments.
type adminRun func(ctx context.Context, c *adminCmd, pos []string) error

// adminCmd is what a running admin command uses.
type adminCmd struct {
	st             *store.Store
	stdin          io.Reader
	stdout, stderr io.Writer
}

const dbUsage = "the directory: a SQLite database `file` or a postgres:// URL (required)"

// adminCommands lists the admin commands in the order help shows them.
func adminCommands() []adminSpec {
	company := []string{"company"}
	return []adminSpec{
		{name: "company add", args: "ID [--name NAME]", summary: "create a company", define: companyAdd},
		{name: "company list", args: "[--json]", summary: "list companies with their groups and number of users",
			existing: true, define: companyList},
		{name: "company rm", args: "ID", summary: "remove a company with its groups and whitelist entries; refused while users belong to it",
			define: companyRm},
		{name: "group add", args: "--company ID NAME", summary: "create a group in a company", required: company, define: groupCmd("add")},
		{name: "group rm", args: "--company ID NAME", summary: "remove a group and every membership in it", required: company, define: groupCmd("rm")},
		{name: "group list", args: "[--company ID] [--json]", summary: "list groups with their number of members",
			existing: true, define: groupList},
		{name: "whitelist add", args: "--company ID [--admin] EMAIL|@DOMAIN", summary: "let an email or a domain sign up into a company",
			required: company, define: whitelistAdd},
		{name: "whitelist rm", args: "[--company ID] EMAIL|@DOMAIN", summary: "remove a whitelist entry", define: whitelistRm},
		{name: "whitelist list", args: "[--company ID] [--json]", summary: "list the whitelist", existing: true, define: whitelistList},
		{name: "membership add", args: "--company ID --user USER GROUP",
			summary:  "add a user (id or email) to a group as an administrator's grant, which logins keep",
			required: []string{"company", "user"}, define: membershipCmd("add")},
		{name: "membership rm", args: "--company ID --user USER GROUP", summary: "remove a user (id or email) from a group",
			required: []string{"company", "user"}, define: membershipCmd("rm")},
		{name: "user list", args: "[--json]", summary: "list users with their groups", existing: true, define: userList},
		{name: "migrate", summary: "apply pending schema migrations and print the schema version", existing: true, define: migrateCmd},
		{name: "export", args: "[--no-sessions] > FILE", summary: "write the whole directory, users and sessions included, as JSON",
			existing: true, define: exportCmd},
		{name: "import", args: "< FILE", summary: "read a directory that export wrote into a new, empty database", define: importCmd},
	}
}

// runAdmin runs `pingauthz admin`.
func runAdmin(ctx context.Context, env *cliEnv, args []string) error {
	cmds := adminCommands()
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	db := fs.String("db", "", dbUsage)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printAdminUsage(env.stdout, fs, cmds)
			return flag.ErrHelp
		}
		printAdminUsage(env.stderr, fs, cmds)
		return usageErr("admin: %v", err)
	}
	rest := fs.Args()
	spec, rest, err := findAdminCommand(cmds, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printAdminUsage(env.stdout, fs, cmds)
			return err
		}
		printAdminUsage(env.stderr, fs, cmds)
		return err
	}

	// Parse the command's own arguments before touching the database.
	cfs := flag.NewFlagSet(spec.name, flag.ContinueOnError)
	cfs.SetOutput(io.Discard)
	cfs.StringVar(db, "db", *db, dbUsage)
	names, run := spec.define(cfs)
	pos, err := parseArgs(cfs, rest, names)
	if errors.Is(err, flag.ErrHelp) {
		printCommandUsage(env.stdout, spec, cfs)
		return err
	}
	if err != nil {
		return err
	}
	for _, name := range spec.required {
		if err := requireFlag(spec.name, name, cfs.Lookup(name).Value.String()); err != nil {
			return err
		}
	}
	if *db == "" {
		return usageErr("admin: --db is required")
	}
	return openAndRun(ctx, env, *db, spec.existing, func(ctx context.Context, st *store.Store) error {
		return run(ctx, &adminCmd{st: st, stdin: env.stdin, stdout: env.stdout, stderr: env.stderr}, pos)
	})
}

// findAdminCommand finds the command the arguments name and returns the
// arguments after its name; it returns flag.ErrHelp for "-h" where a
// command name is expected.
func findAdminCommand(cmds []adminSpec, args []string) (adminSpec, []string, error) {
	for _, n := range []int{2, 1} {
		if len(args) < n {
			continue
		}
		name := strings.Join(args[:n], " ")
		for _, c := range cmds {
			if c.name == name {
				return c, args[n:], nil
			}
		}
	}
	for i := 0; i < len(args) && i < 2; i++ {
		if isHelpFlag(args[i]) {
			return adminSpec{}, nil, flag.ErrHelp
		}
	}
	switch len(args) {
	case 0:
		return adminSpec{}, nil, usageErr("admin: want a command, e.g. `company add ID`")
	case 1:
		return adminSpec{}, nil, usageErr("admin: want a command, e.g. `company add ID`; %q is not one", args[0])
	}
	return adminSpec{}, nil, usageErr("admin: unknown command %q; run `pingauthz admin -h` for the list", strings.Join(args[:2], " "))
}

func isHelpFlag(a string) bool {
	switch a {
	case "-h", "--h", "-help", "--help", "help":
		return true
	}
	return false
}

func printAdminUsage(w io.Writer, fs *flag.FlagSet, cmds []adminSpec) {
	fmt.Fprint(w, adminUsageHead)
	for _, c := range cmds {
		fmt.Fprintf(w, "  %s\n      %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	fmt.Fprint(w, adminUsageTail)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

func printCommandUsage(w io.Writer, c adminSpec, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: pingauthz admin --db PATH|URL %s\n\n%s.\n\nFlags:\n", strings.TrimSpace(c.name+" "+c.args), upperFirst(c.summary))
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// openAndRun opens the database db and runs fn on it. With existing, a
// SQLite file must exist; a command that fails on a SQLite file it created
// removes that file again.
func openAndRun(ctx context.Context, env *cliEnv, db string, existing bool, fn func(context.Context, *store.Store) error) error {
	created := false
	if store.IsPostgres(db) {
		// The server says whether the database exists.
	} else if existing {
		if _, err := os.Stat(db); err != nil {
			return fmt.Errorf("admin: --db %s: %w", db, err)
		}
	} else if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(env.stderr, "pingauthz: creating the database %s\n", db)
		created = true
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := fn(ctx, st); err != nil {
		if created {
			removeIfEmpty(ctx, st, db, env.stderr)
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

// parseArgs parses flags anywhere among the arguments (up to "--") and
// returns the positional ones, which must be exactly as many as names.
func parseArgs(fs *flag.FlagSet, args []string, names []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
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
	if len(pos) != len(names) {
		want := "no arguments"
		if len(names) > 0 {
			want = strings.Join(names, " ")
		}
		return nil, usageErr("admin %s: want %s, got %d argument(s)", fs.Name(), want, len(pos))
	}
	return pos, nil
}

func requireFlag(cmd, name, v string) error {
	if v == "" {
		return usageErr("admin %s: --%s is required", cmd, name)
	}
	return nil
}
