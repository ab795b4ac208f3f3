// Command pingauthz is the operator CLI of pingauthz: it checks the
// CLEARML__ environment, renders, evaluates and tests the decision policies,
// and runs the reference server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/pingauthz/pingauthz/internal/gctune"
)

// cliEnv is what a subcommand sees of the process.
type cliEnv struct {
	// environ holds "NAME=value" entries, as os.Environ returns them.
	environ        []string
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one top-level subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// commands lists the subcommands. A command returns nil for exit code 0,
// an *exitError for a chosen code, flag.ErrHelp after printing its usage,
// and any other error for exit code 1.
func commands() map[string]command {
	return map[string]command{
		"config":   {"check the CLEARML__ environment", runConfig},
		"policy":   {"render, evaluate and test the decision policies", runPolicy},
		"serve":    {"run the reference server", runServe},
		"admin":    {"manage companies, groups, whitelist and memberships", runAdmin},
		"demo":     {"run the whole login on this machine with a Ping emulator", runDemo},
		"emulator": {"run a Ping emulator on loopback, a test tool (prints its CLEARML__ variables)", runEmulator},
		"ping":     {"test the configured Ping provider live: ping check [--login]", runPing},
	}
}

func main() {
	gctune.Apply(os.Getenv)
	os.Exit(run(context.Background(), os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit code. Errors
// are printed to stderr, prefixed with "pingauthz: ".
func run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := dispatch(ctx, &cliEnv{environ: environ, stdin: stdin, stdout: stdout, stderr: stderr}, args)
	return exitCode(err, stderr)
}

func dispatch(ctx context.Context, env *cliEnv, args []string) error {
	cmds := commands()
	if len(args) == 0 {
		printUsage(env.stderr, cmds)
		return usageErr("want a command")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printUsage(env.stdout, cmds)
		return nil
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		printUsage(env.stderr, cmds)
		return usageErr("unknown command %q", args[0])
	}
	return cmd.run(ctx, env, args[1:])
}

func printUsage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for name := range cmds {
		names = append(names, name)
	}
	slices.Sort(names)
	width := 0
	for _, name := range names {
		width = max(width, len(name))
	}
	fmt.Fprintln(w, "Usage: pingauthz COMMAND [arguments]\n\nCommands:")
	for _, name := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, name, cmds[name].summary)
	}
	fmt.Fprintln(w, "\nRun `pingauthz COMMAND -h` for a command's arguments.")
}

// exitError is an error with the exit code it ends the process with. A nil
// err exits silently (the command has reported already).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit code %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErr is a command line the command cannot run: exit code 2.
func usageErr(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// exitCode prints err and returns its exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	}
	msg := strings.TrimPrefix(err.Error(), "pingauthz: ")
	fmt.Fprintf(stderr, "pingauthz: %s\n", msg)
	return code
}

// parseCommandFlags parses a command's flags: -h and --help print usage and
// the flags to stdout (flag.ErrHelp, exit 0); a bad flag prints them to
// stderr and is a usage error (exit 2).
func parseCommandFlags(fs *flag.FlagSet, usage string, env *cliEnv, args []string) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printFlagUsage(env.stdout, fs, usage)
		return flag.ErrHelp
	case err != nil:
		printFlagUsage(env.stderr, fs, usage)
		return usageErr("%s: %v", fs.Name(), err)
	}
	return nil
}

// printFlagUsage writes usage followed by the flags of fs to w.
func printFlagUsage(w io.Writer, fs *flag.FlagSet, usage string) {
	fs.SetOutput(w)
	fmt.Fprint(w, usage)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
