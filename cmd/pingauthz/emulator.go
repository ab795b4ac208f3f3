package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/pingemu"
)

const emulatorUsage = `Usage: pingauthz emulator [flags]

Runs a Ping Identity emulator on a loopback address until interrupted. It is
a test tool for trying a configuration, a policy or pingauthz ping check
before production, never an identity provider: passwords are compared in
plain text and nothing outlives the process. It refuses to listen on any
address but 127.0.0.1, ::1 or localhost.

It first prints to stdout the export lines (client id and secret included)
that point pingauthz serve or pingauthz ping check at it, then serves; the
accounts and the redirect URIs it accepts go to stderr. --print-env prints
the same lines for --listen and exits, for scripts:

  eval "$(pingauthz emulator --print-env)"

A redirect URI on a loopback host registered without a port (the default
ones) accepts any port, as RFC 8252 asks of native clients.

Flags:
`

// Defaults of `pingauthz emulator`.
const (
	emulatorListen   = "127.0.0.1:9031"
	emulatorClientID = "pingauthz-emulator"
	// emulatorSecret is the default client secret: fixed, so --print-env
	// and a later run agree. The emulator only serves loopback.
	emulatorSecret = "emulator-secret-for-loopback-tests-only"
)

// defaultRedirectURIs are the emulator's default registrations: the
// server's callback and ping check's default, on any loopback port.
var defaultRedirectURIs = []string{
	"http://127.0.0.1" + host.CallbackPath, "http://localhost" + host.CallbackPath,
	"http://127.0.0.1" + pingCheckCallbackPath, "http://localhost" + pingCheckCallbackPath,
}

// emulatorFlags are the parsed flags of `pingauthz emulator`.
type emulatorFlags struct {
	listen       string // canonical host:port
	flavor       pingemu.Flavor
	pkce         pingemu.PKCEMode
	groupsClaim  string
	groupsDN     bool
	usersFile    string
	clientID     string
	clientSecret string
	authMethod   string
	redirectURIs []string
	printEnv     bool
}

func parseEmulatorFlags(args []string, env *cliEnv) (*emulatorFlags, error) {
	f := &emulatorFlags{}
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.StringVar(&f.listen, "listen", emulatorListen, "loopback `address` to serve on")
	flavor := fs.String("flavor", string(pingemu.PingOne), "Ping product to emulate: `name` pingone, pingone-custom-domain or pingfederate")
	pkce := fs.String("pkce", string(pingemu.PKCEOptional), "PKCE enforcement: `mode` optional, required or s256_required")
	fs.StringVar(&f.groupsClaim, "groups-claim", "groups", "`claim` carrying the groups")
	fs.BoolVar(&f.groupsDN, "groups-dn", false, "send groups as LDAP DNs (CN=<group>,"+pingemu.GroupDNBase+"), as PingFederate's memberOf")
	fs.StringVar(&f.usersFile, "users", "", "accounts from a .yaml or .json `file` (default: alice, bob and carol of pingauthz demo)")
	fs.StringVar(&f.clientID, "client-id", emulatorClientID, "OAuth client `id`")
	fs.StringVar(&f.clientSecret, "client-secret", emulatorSecret, "OAuth client `secret`")
	fs.StringVar(&f.authMethod, "auth-method", pingemu.AuthBasic, "token endpoint client authentication: `method` client_secret_basic or client_secret_post")
	fs.Func("redirect-uri", "a redirect `URI` to accept (repeatable; replaces the defaults "+strings.Join(defaultRedirectURIs, ", ")+")",
		func(s string) error { f.redirectURIs = append(f.redirectURIs, s); return nil })
	fs.BoolVar(&f.printEnv, "print-env", false, "print the export lines for --listen and exit")
	if err := parseCommandFlags(fs, emulatorUsage, env, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usageErr("emulator: unexpected argument %q", fs.Arg(0))
	}
	f.flavor, f.pkce = pingemu.Flavor(*flavor), pingemu.PKCEMode(*pkce)
	if _, err := pingemu.EndpointsAt(f.flavor, "", "http://127.0.0.1"); err != nil {
		return nil, usageErr("emulator: --flavor %q: want pingone, pingone-custom-domain or pingfederate", *flavor)
	}
	switch f.pkce {
	case pingemu.PKCEOptional, pingemu.PKCERequired, pingemu.PKCES256Required:
	default:
		return nil, usageErr("emulator: --pkce %q: want optional, required or s256_required", *pkce)
	}
	switch f.authMethod {
	case pingemu.AuthBasic, pingemu.AuthPost:
	default:
		return nil, usageErr("emulator: --auth-method %q: want client_secret_basic or client_secret_post", f.authMethod)
	}
	if strings.TrimSpace(f.groupsClaim) == "" {
		return nil, usageErr("emulator: --groups-claim is empty")
	}
	if f.clientID == "" || f.clientSecret == "" {
		return nil, usageErr("emulator: --client-id and --client-secret must not be empty")
	}
	if len(f.redirectURIs) == 0 {
		f.redirectURIs = defaultRedirectURIs
	}
	listen, err := canonicalLoopback("--listen", f.listen)
	if err != nil {
		return nil, usageErr("emulator: %v", err)
	}
	f.listen = listen
	if f.printEnv && strings.HasSuffix(listen, ":0") {
		return nil, usageErr("emulator: --print-env needs a fixed port in --listen, not %q", listen)
	}
	return f, nil
}

// canonicalLoopback checks that addr is a loopback host:port and returns it
// as the listener will report it: localhost becomes 127.0.0.1.
func canonicalLoopback(flagName, addr string) (string, error) {
	if err := demo.RequireLoopback(flagName, addr); err != nil {
		return "", err
	}
	h, port, _ := net.SplitHostPort(addr)
	if strings.EqualFold(h, "localhost") {
		h = "127.0.0.1"
	}
	if ip := net.ParseIP(h); ip != nil {
		h = ip.String()
	}
	return net.JoinHostPort(h, port), nil
}

// runEmulator runs `pingauthz emulator` until ctx ends or SIGINT/SIGTERM
// arrives.
func runEmulator(ctx context.Context, env *cliEnv, args []string) error {
	f, err := parseEmulatorFlags(args, env)
	if err != nil {
		return err
	}
	if f.printEnv {
		eps, err := pingemu.EndpointsAt(f.flavor, "", "http://"+f.listen)
		if err != nil {
			return err
		}
		return writeExports(env.stdout, f.env(eps))
	}
	users := demo.DefaultUsers()
	if f.usersFile != "" {
		if users, err = pingemu.LoadUsers(f.usersFile); err != nil {
			return err
		}
		if len(users) == 0 {
			return fmt.Errorf("emulator: --users %s holds no accounts", f.usersFile)
		}
	}
	idp, err := pingemu.Start(pingemu.Options{
		Flavor: f.flavor,
		Addr:   f.listen,
		Users:  users,
		Faults: pingemu.Faults{GroupsClaim: f.groupsClaim, GroupsAsDN: f.groupsDN},
		Clients: []pingemu.Client{{
			ID: f.clientID, Secret: f.clientSecret, RedirectURIs: f.redirectURIs,
			AuthMethod: f.authMethod, PKCE: f.pkce,
		}},
	})
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	defer idp.Close()
	eps, err := pingemu.EndpointsAt(idp.Flavor(), idp.EnvID(), idp.URL())
	if err != nil {
		return err
	}
	if err := writeExports(env.stdout, f.env(eps)); err != nil {
		return err
	}
	describeEmulator(env.stderr, idp, f, users)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Fprintln(env.stderr, "pingauthz: emulator stopped")
	return idp.Close()
}

// env returns the CLEARML__ variables that point a server at the emulator:
// its endpoints and client, and the settings its flags make necessary.
func (f *emulatorFlags) env(eps pingemu.Endpoints) []string {
	v := func(key, hocon string) string { return config.VarName(key, false) + "=" + hocon }
	req := config.RequiredEnv(hoconText(eps.Authorize), hoconText(eps.Token), hoconText(f.clientID), hoconText(f.clientSecret))
	out := req[:2:2]
	if f.pkce != pingemu.PKCEOptional {
		out = append(out, v("code_challenge", "true"))
	}
	if f.groupsClaim != "groups" {
		out = append(out, v("groups__claim", hoconText(f.groupsClaim)))
	}
	if f.groupsDN {
		out = append(out, v("groups__from_dn", "true"))
	}
	return append(out, req[2:]...)
}

// plainHOCON is text a HOCON value can hold unquoted and read back as the
// same string.
var plainHOCON = regexp.MustCompile(`^[A-Za-z0-9._:/%~-]+$`)

// hoconText renders s as a HOCON value that reads back as the string s.
func hoconText(s string) string {
	if plainHOCON.MatchString(s) {
		if v, err := config.ParseValue(s); err == nil && v.Kind == config.KindString {
			return s
		}
	}
	return config.Value{Kind: config.KindString, Str: s}.String()
}

// shellPlain is a word a POSIX shell reads back unchanged without quotes.
var shellPlain = regexp.MustCompile(`^[A-Za-z0-9._:/%~@+,=-]+$`)

// writeExports prints "export NAME=value" lines, values quoted for a POSIX
// shell where needed.
func writeExports(w io.Writer, vars []string) error {
	for _, kv := range vars {
		name, value, _ := strings.Cut(kv, "=")
		if !shellPlain.MatchString(value) {
			value = "'" + strings.ReplaceAll(value, "'", `'\''`) + "'"
		}
		if _, err := fmt.Fprintf(w, "export %s=%s\n", name, value); err != nil {
			return err
		}
	}
	return nil
}

// describeEmulator tells the operator what is running and how to sign in.
func describeEmulator(w io.Writer, idp *pingemu.Server, f *emulatorFlags, users []pingemu.User) {
	groups := "group names"
	if f.groupsDN {
		groups = "LDAP DNs"
	}
	fmt.Fprintf(w, `
pingauthz: Ping emulator (%s, a test tool) at %s
  Issuer         %s
  Client         %s (%s, PKCE %s)
  Groups         claim %q, as %s
  Redirect URIs  %s

Accounts:
`, idp.Flavor(), idp.URL(), idp.Issuer(), f.clientID, f.authMethod, f.pkce, f.groupsClaim, groups,
		strings.Join(f.redirectURIs, "\n                 "))
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  USERNAME\tPASSWORD\tEMAIL\tGROUPS")
	for _, u := range users {
		email, _ := u.Claims["email"].(string)
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", u.Username, u.Password, email, strings.Join(u.Groups, ", "))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nPress Ctrl+C to stop.")
}
