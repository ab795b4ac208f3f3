package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/pingemu"
)

const demoUsage = `Usage: pingauthz demo [flags]

Runs the whole login on this machine until interrupted: a Ping emulator
(PingOne flavor) with demo accounts, the server with a fresh database in a
temporary directory (removed at exit), and the plugin with group sync, an
admin group, PKCE and sign-up only for members of an existing group. Both
listen on loopback only. Without --plugin, a plugin next to this executable is
used, else one is built with the go command.

Your policy: the CLEARML__ variables of this environment that shape the
policy or the identity (policy__dir, the groups__ keys, claims__ keys,
default_company and the like) replace the demo's settings, and the emulator
sends the groups claim they name (as LDAP DNs with groups__from_dn). The
variables naming a provider or a client (authorize_url, client_secret, ...)
are ignored: the demo points them at its emulator. The banner lists the
files of policy__dir in use (extensions, replacements, additions), the
policy revision, and what a first login of each account decides.

--users takes the same accounts file as pingauthz emulator.

Flags:
`

// runDemo runs `pingauthz demo` until ctx ends or SIGINT/SIGTERM arrives.
func runDemo(ctx context.Context, env *cliEnv, args []string) error {
	stdout, stderr := env.stdout, env.stderr
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	listen := fs.String("listen", demo.DefaultListen, "server `address`; must be loopback")
	idpListen := fs.String("idp-listen", demo.DefaultIdPListen, "Ping emulator `address`; must be loopback")
	pluginPath := fs.String("plugin", "", "plugin binary `path` (default: next to this executable, else built with go)")
	usersFile := fs.String("users", "", "emulator accounts from a .yaml or .json `file`, as pingauthz emulator takes (default: the built-in alice, bob, carol)")
	logLevel := fs.String("log-level", "info", "log `level` of the server and plugin: trace, debug, info, warn, error or off")
	if err := parseCommandFlags(fs, demoUsage, env, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("demo: unexpected argument %q", fs.Arg(0))
	}
	for _, a := range []struct{ flag, addr string }{{"--listen", *listen}, {"--idp-listen", *idpListen}} {
		if err := demo.RequireLoopback(a.flag, a.addr); err != nil {
			return usageErr("demo: %v", err)
		}
	}
	level := hclog.LevelFromString(*logLevel)
	if level == hclog.NoLevel {
		return usageErr("demo: --log-level %q: want trace, debug, info, warn, error or off", *logLevel)
	}
	var users []pingemu.User
	if *usersFile != "" {
		var err error
		if users, err = pingemu.LoadUsers(*usersFile); err != nil {
			return err
		}
		if len(users) == 0 {
			return fmt.Errorf("demo: --users %s holds no accounts", *usersFile)
		}
	}
	kept, dropped := demo.PolicyEnv(env.environ)
	for _, name := range dropped {
		fmt.Fprintf(stderr, "pingauthz: demo: ignoring %s: the demo points it at its own Ping emulator\n", name)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := demo.Start(ctx, demo.Options{
		Listen:     *listen,
		IdPListen:  *idpListen,
		PluginPath: *pluginPath,
		Users:      users,
		Env:        kept,
		Logger:     hclog.New(&hclog.LoggerOptions{Name: "demo", Output: stderr, Level: level}),
		Progress:   stderr,
	})
	if err != nil {
		return err
	}
	defer d.Close()
	for _, w := range d.Warnings {
		fmt.Fprintf(stderr, "pingauthz: warning: %s\n", w)
	}
	printDemo(stdout, d, kept)
	select {
	case <-ctx.Done():
		fmt.Fprintln(stdout, "\nStopping the demo...")
	case <-d.Done():
	}
	return d.Close() // includes why serving stopped, if it failed
}

// printDemo tells the user where to go, what runs and how to log in.
func printDemo(w io.Writer, d *demo.Demo, kept []string) {
	fmt.Fprintf(w, `
pingauthz demo is running.

  Open         %s/
  Ping (emu)   %s  (issuer %s)
  Database     %s  (removed at exit)
  Plugin       %s

`, d.URL, d.IdP.URL(), d.IdP.Issuer(), d.DBPath, d.PluginPath)
	if len(kept) > 0 {
		fmt.Fprintf(w, "From your environment: %s\n", strings.Join(shortKeys(kept), ", "))
	}
	fmt.Fprintf(w, "Settings: %s.\n\n", demoSettings(d.Config))
	printPolicy(w, d.Policy)
	companies := make([]string, len(d.Companies))
	for i, c := range d.Companies {
		companies[i] = strconv.Quote(c)
	}
	have := "Company %s has"
	if len(companies) > 1 {
		have = "Companies %s have"
	}
	fmt.Fprintf(w, "\n"+have+" the groups %q and %q.\n\nDemo accounts:\n",
		strings.Join(companies, " and "), demo.TeamGroup, demo.DataGroup)
	_ = demo.PrintAccounts(w, d.Users, d.Expected)
	fmt.Fprintln(w, "\nPress Ctrl+C to stop.")
}

// printPolicy lists the policy revision and the files of policy__dir.
func printPolicy(w io.Writer, p demo.Policy) {
	if p.Dir == "" {
		fmt.Fprintf(w, "Policy revision %s: the default policies (no policy__dir).\n", p.Revision)
		return
	}
	extensions := 0
	for _, f := range p.Files {
		if f.Extension && !f.Test {
			extensions++
		}
	}
	fmt.Fprintf(w, "Policy revision %s: the defaults with %s of %s, %s:\n",
		p.Revision, count(len(p.Files), "file"), p.Dir, count(extensions, "extension"))
	for _, f := range p.Files {
		name := f.File
		if rel, err := filepath.Rel(p.Dir, f.File); err == nil {
			name = rel
		}
		kind := "adds"
		switch {
		case f.Test:
			kind = "test"
		case f.Extension:
			kind, name = "extension", name+" (package clearml.sso.extend)"
		case f.Replaces:
			kind, name = "replaces", name+", in place of the default "+f.Path
		}
		fmt.Fprintf(w, "  %-10s %s\n", kind, name)
	}
}

// count writes n with the noun, in the plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// demoSettings summarizes the policy-shaping settings in force.
func demoSettings(c *config.Config) string {
	var parts []string
	if c.Groups.Enabled {
		parts = append(parts, fmt.Sprintf("group sync on (claim %q%s)", c.Groups.Claim, map[bool]string{true: ", CN of each DN", false: ""}[c.Groups.FromDN]))
	} else {
		parts = append(parts, "group sync off")
	}
	if len(c.Groups.Admins) > 0 {
		parts = append(parts, fmt.Sprintf("admin groups %q", c.Groups.Admins))
	}
	if c.Groups.ProhibitUserSignupIfNotInGroup {
		parts = append(parts, "sign-up only with a Ping group the company has")
	}
	if c.DefaultCompany != "" {
		parts = append(parts, fmt.Sprintf("new users join %q", c.DefaultCompany))
	} else {
		parts = append(parts, "sign-up through the whitelist only (no default company)")
	}
	return strings.Join(parts, ", ")
}

// shortKeys names variables by their key under the provider section.
func shortKeys(kvs []string) []string {
	out := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		name, _, _ := strings.Cut(kv, "=")
		lower := strings.ToLower(name)
		for _, secure := range []bool{false, true} {
			lower = strings.TrimPrefix(lower, strings.ToLower(config.VarName("", secure)))
		}
		out = append(out, lower)
	}
	return out
}
