package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingcheck"
	"github.com/pingauthz/pingauthz/internal/store"
	"github.com/pingauthz/pingauthz/rego"
	"github.com/pingauthz/pingauthz/sso"
)

// pingCheckCallbackPath is the path of ping check's default redirect URI.
const pingCheckCallbackPath = "/oidc/callback"

// pingCheckRedirect is ping check's default redirect URI.
const pingCheckRedirect = "http://127.0.0.1:8250" + pingCheckCallbackPath

const pingUsage = `Usage: pingauthz ping COMMAND [flags]

Commands:
  check    test the configured Ping provider live, optionally with a sign-in

Run pingauthz ping check -h for its flags.
`

const pingCheckUsage = `Usage: pingauthz ping check [--login [--redirect-uri URI] [--directory FILE | --db PATH]] [--json]

Tests the Ping provider that the CLEARML__ environment configures, live, the
way the server's relying party sees it. Each check prints PASS or FAIL with a
sentence:

  issuer              the issuer the configured URLs imply, and the configured one
  discovery           the discovery document, trusted as the relying party trusts it
  jwks                the signing keys and their algorithms
  token_auth_method   the client authentication Ping accepts, against the one used
  client_credentials  one token request with a made-up code: Ping must accept the
                      client id and secret and refuse only the code
  pkce                the PKCE settings, against what Ping supports
  userinfo            the userinfo endpoint asks for an access token

--login also signs in. It prints (on stderr) an authorize URL to open in a
browser and receives the sign-in on --redirect-uri, a loopback address of
this machine that must be registered at Ping as a redirect URI of the
application (as a CLI login of Vault does). It then checks the sign-in, the
groups claim and the decision, and shows the verified ID token and userinfo
claims (never a token or a signature), the identity as the relying party
extracts it (user id, email, name, and the groups after groups__claim and
groups__from_dn), and the decision with its reasons, evaluated against
--directory FILE (as policy eval reads it) or the database --db, else an
empty directory. Nothing is created or changed.

Exit status: 0 when every check passes, 1 when one fails, 2 on a usage or
configuration error.

Flags:
`

// runPing runs `pingauthz ping`.
func runPing(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(env.stderr, pingUsage)
		return usageErr("ping: want a command: check")
	}
	switch args[0] {
	case "check":
		return runPingCheck(ctx, env, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(env.stdout, pingUsage)
		return nil
	}
	fmt.Fprint(env.stderr, pingUsage)
	return usageErr("ping: unknown command %q", args[0])
}

// pingCheckFlags are the parsed flags of `pingauthz ping check`.
type pingCheckFlags struct {
	login         bool
	redirectURI   string
	directoryFile string
	db            string
	json          bool
	wait          time.Duration
}

func parsePingCheckFlags(args []string, env *cliEnv) (*pingCheckFlags, error) {
	f := &pingCheckFlags{}
	fs := flag.NewFlagSet("ping check", flag.ContinueOnError)
	fs.BoolVar(&f.login, "login", false, "sign in through a browser and show the claims, the identity and the decision")
	fs.StringVar(&f.redirectURI, "redirect-uri", pingCheckRedirect, "loopback `URI` that receives the sign-in; it must be registered at Ping (port 0: any free port, for an emulator)")
	fs.StringVar(&f.directoryFile, "directory", "", "directory JSON `file` to decide against (as policy eval reads it)")
	fs.StringVar(&f.db, "db", "", "database `path` to decide against: its companies, whitelist and existing users")
	fs.BoolVar(&f.json, "json", false, "print the report as one JSON document")
	fs.DurationVar(&f.wait, "timeout", 5*time.Minute, "how long --login waits for the sign-in")
	if err := parseCommandFlags(fs, pingCheckUsage, env, args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, usageErr("ping check: unexpected argument %q", fs.Arg(0))
	case f.directoryFile != "" && f.db != "":
		return nil, usageErr("ping check: give --directory or --db, not both")
	case !f.login && (f.directoryFile != "" || f.db != ""):
		return nil, usageErr("ping check: --directory and --db need --login: the decision is made on a sign-in")
	case f.wait <= 0:
		return nil, usageErr("ping check: --timeout %s must be positive", f.wait)
	}
	return f, nil
}

// runPingCheck runs `pingauthz ping check`.
func runPingCheck(ctx context.Context, env *cliEnv, args []string) error {
	f, err := parsePingCheckFlags(args, env)
	if err != nil {
		return err
	}
	cfg, err := loadEnvConfig(env)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Everything that can fail without the provider fails first.
	var decider *pingcheck.Decider
	var cb *pingcheck.Callback
	redirect := f.redirectURI
	if f.login {
		var closeDir func()
		if decider, closeDir, err = loadDecider(ctx, cfg, f); err != nil {
			return &exitError{code: 2, err: err}
		}
		defer closeDir()
		if cb, err = pingcheck.ListenCallback(f.redirectURI); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("ping check: --redirect-uri: %w", err)}
		}
		defer cb.Close()
		redirect = cb.RedirectURI
	}
	checker, err := pingcheck.New(ctx, pingcheck.Options{Config: cfg})
	if err != nil {
		return &exitError{code: 2, err: err}
	}

	report := &pingcheck.Report{}
	report.Checks, report.Provider = checker.ProviderChecks(ctx, redirect)
	if !f.json {
		fmt.Fprintf(env.stdout, "pingauthz ping check: %s (client %s)\n\n", orText(report.Provider.Issuer, cfg.AuthorizeURL), cfg.ClientID)
		pingcheck.WriteChecks(env.stdout, report.Checks)
	}
	if f.login {
		loginChecks := pingLogin(ctx, env.stderr, checker, cb, decider, f.wait, report)
		report.Checks = append(report.Checks, loginChecks...)
		if !f.json {
			pingcheck.WriteChecks(env.stdout, loginChecks)
			if report.Login != nil {
				pingcheck.WriteLogin(env.stdout, report.Login)
			}
		}
	}
	report.Finish()
	if f.json {
		if err := report.WriteJSON(env.stdout); err != nil {
			return err
		}
	} else {
		pingcheck.WriteSummary(env.stdout, report)
	}
	if !report.OK {
		return &exitError{code: 1}
	}
	return nil
}

// pingLogin begins a login, tells the operator where to sign in, waits for
// the callback and finishes the login into report.
func pingLogin(ctx context.Context, stderr io.Writer, checker *pingcheck.Checker, cb *pingcheck.Callback,
	decider *pingcheck.Decider, wait time.Duration, report *pingcheck.Report) []pingcheck.Check {
	failLogin := func(format string, args ...any) []pingcheck.Check {
		return []pingcheck.Check{{Name: pingcheck.CheckLogin, Sentence: fmt.Sprintf(format, args...)}}
	}
	authURL, sealed, err := checker.Begin(ctx, cb.RedirectURI)
	if err != nil {
		return failLogin("The sign-in cannot start: %s.", strings.TrimPrefix(err.Error(), "pingcheck: "))
	}
	fmt.Fprintf(stderr, "\nOpen this URL in a browser and sign in. Ping then sends the browser to %s,\n"+
		"which must be registered at Ping as a redirect URI of the application:\n\n  %s\n\nWaiting up to %s for the sign-in...\n\n",
		cb.RedirectURI, authURL, wait)
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	query, err := cb.Wait(wctx)
	if err != nil {
		return failLogin("No sign-in reached %s: %s.", cb.RedirectURI, strings.TrimPrefix(err.Error(), "pingcheck: "))
	}
	login, checks := checker.Login(ctx, cb.RedirectURI, sealed, query, decider)
	report.Login = login
	return checks
}

// loadDecider compiles the policies and reads the directory to decide
// against; the returned function closes what it opened.
func loadDecider(ctx context.Context, cfg *config.Config, f *pingCheckFlags) (*pingcheck.Decider, func(), error) {
	nothing := func() {}
	switch {
	case f.directoryFile != "":
		file, err := os.Open(f.directoryFile)
		if err != nil {
			return nil, nil, fmt.Errorf("ping check: --directory: %w", err)
		}
		defer file.Close()
		dir, err := rego.DecodeDirectory(file)
		if err != nil {
			return nil, nil, fmt.Errorf("ping check: %s: %w", f.directoryFile, err)
		}
		d, err := pingcheck.NewDecider(ctx, cfg, dir, nil, "--directory "+f.directoryFile)
		return d, nothing, err
	case f.db != "":
		// Open creates a missing database; a check must not.
		if !strings.Contains(f.db, "://") {
			if _, err := os.Stat(f.db); err != nil {
				return nil, nil, fmt.Errorf("ping check: --db: %w", err)
			}
		}
		st, err := store.Open(ctx, f.db)
		if err != nil {
			return nil, nil, fmt.Errorf("ping check: --db: %w", err)
		}
		closeStore := func() { _ = st.Close() }
		dir, err := st.Snapshot(ctx)
		if err != nil {
			closeStore()
			return nil, nil, fmt.Errorf("ping check: --db: %w", err)
		}
		d, err := pingcheck.NewDecider(ctx, cfg, dir, st.FindUser, "--db "+f.db)
		if err != nil {
			closeStore()
			return nil, nil, err
		}
		return d, closeStore, nil
	}
	d, err := pingcheck.NewDecider(ctx, cfg, &sso.Directory{}, nil, "an empty directory (no --directory or --db)")
	return d, nothing, err
}

func orText(s, alt string) string {
	if s != "" {
		return s
	}
	return alt
}
