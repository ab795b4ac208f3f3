package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"

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

Flags:
`

// runDemo runs `pingauthz demo` until ctx ends or SIGINT/SIGTERM arrives.
func runDemo(ctx context.Context, env *cliEnv, args []string) error {
	stdout, stderr := env.stdout, env.stderr
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	listen := fs.String("listen", demo.DefaultListen, "server `address`; must be loopback")
	idpListen := fs.String("idp-listen", demo.DefaultIdPListen, "Ping emulator `address`; must be loopback")
	pluginPath := fs.String("plugin", "", "plugin binary `path` (default: next to this executable, else built with go)")
	usersFile := fs.String("users", "", "emulator accounts from a .yaml or .json `file` (default: the built-in alice, bob, carol)")
	logLevel := fs.String("log-level", "info", "log `level` of the server and plugin: trace, debug, info, warn, error or off")
	if err := parseCommandFlags(fs, demoUsage, env, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("demo: unexpected argument %q", fs.Arg(0))
	}
	for _, a := range []struct{ flag, addr string }{{"--listen", *listen}, {"--idp-listen", *idpListen}} {
		if err := demo.RequireLoopback(a.flag, a.addr); err != nil {
			return usageErr("%v", err)
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

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := demo.Start(ctx, demo.Options{
		Listen:     *listen,
		IdPListen:  *idpListen,
		PluginPath: *pluginPath,
		Users:      users,
		Logger:     hclog.New(&hclog.LoggerOptions{Name: "demo", Output: stderr, Level: level}),
		Progress:   stderr,
	})
	if err != nil {
		return err
	}
	defer d.Close()
	printDemo(stdout, d)
	select {
	case <-ctx.Done():
		fmt.Fprintln(stdout, "\nStopping the demo...")
	case <-d.Done():
	}
	return d.Close() // includes why serving stopped, if it failed
}

// printDemo tells the user where to go and how to log in.
func printDemo(w io.Writer, d *demo.Demo) {
	fmt.Fprintf(w, `
pingauthz demo is running.

  Open         %s/
  Ping (emu)   %s  (issuer %s)
  Database     %s  (removed at exit)
  Plugin       %s

Company %q (%s) has the groups %q and %q. Ping group %q makes admins;
a first login needs a Ping group that exists in the company.

Demo accounts:
`, d.URL, d.IdP.URL(), d.IdP.Issuer(), d.DBPath, d.PluginPath,
		demo.CompanyID, demo.CompanyName, demo.TeamGroup, demo.DataGroup, demo.AdminGroup)
	_ = demo.PrintAccounts(w, d.Users)
	fmt.Fprintln(w, "\nPress Ctrl+C to stop.")
}
