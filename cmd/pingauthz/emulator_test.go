package main

import (
	"bufio"
	"context"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/plugin/ping"
)

// asyncCLI is a command line running in-process, its stdout and stderr
// read line by line.
type asyncCLI struct {
	lines, errLines chan string
	// stdout and stderr keep everything written.
	stdout, stderr *testutil.SyncBuffer
	cancel         context.CancelFunc
	done           chan int // the exit code
	scanned        sync.WaitGroup
}

// startAsync runs one command line in a goroutine until it ends or the test
// stops it.
func startAsync(t *testing.T, environ []string, args ...string) *asyncCLI {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &asyncCLI{lines: make(chan string, 256), errLines: make(chan string, 256),
		stdout: &testutil.SyncBuffer{}, stderr: &testutil.SyncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	go func() {
		code := run(ctx, args, environ, strings.NewReader(""), outW, errW)
		outW.Close()
		errW.Close()
		a.done <- code
	}()
	scan := func(r io.Reader, keep *testutil.SyncBuffer, lines chan string) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			keep.Write([]byte(sc.Text() + "\n"))
			select {
			case lines <- sc.Text():
			default: // nobody reads these lines: keep draining
			}
		}
		close(lines)
		_, _ = io.Copy(io.Discard, r)
	}
	a.scanned.Add(2)
	go func() { defer a.scanned.Done(); scan(outR, a.stdout, a.lines) }()
	go func() { defer a.scanned.Done(); scan(errR, a.stderr, a.errLines) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-a.done:
		case <-time.After(time.Minute):
			t.Error("the command did not end within a minute of its cancellation")
		}
		if t.Failed() {
			t.Logf("stderr of %q:\n%s", args, a.stderr.String())
		}
	})
	return a
}

// line returns the next line of stdout; it fails the test when stdout ends
// first or nothing comes within a minute.
func (a *asyncCLI) line(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-a.lines:
		if !ok {
			t.Fatalf("stdout ended; stderr:\n%s", a.stderr.String())
		}
		return l
	case <-time.After(time.Minute):
		t.Fatal("no line on stdout within a minute")
	}
	return ""
}

// errLine returns the next line of stderr that matches, as line does.
func (a *asyncCLI) errLine(t *testing.T, match func(string) bool) string {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case l, ok := <-a.errLines:
			if !ok {
				t.Fatalf("stderr ended without the line; stderr:\n%s", a.stderr.String())
			}
			if match(l) {
				return l
			}
		case <-timeout:
			t.Fatalf("no such line on stderr within a minute; stderr:\n%s", a.stderr.String())
		}
	}
}

// wait returns the exit code.
func (a *asyncCLI) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-a.done:
		a.done <- code
		a.scanned.Wait() // everything written is in stdout and stderr
		return code
	case <-time.After(2 * time.Minute):
		t.Fatal("the command did not end within two minutes")
	}
	return -1
}

// shellEnv evaluates export lines with /bin/sh and returns the CLEARML__
// variables they set, as "NAME=value" entries.
func shellEnv(t *testing.T, exports string) []string {
	t.Helper()
	script := filepath.Join(t.TempDir(), "env.sh")
	if err := os.WriteFile(script, []byte(exports), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", `. "$1" && env`, "sh", script)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, exports)
	}
	var env []string
	for _, kv := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(kv, config.EnvPrefix) {
			env = append(env, kv)
		}
	}
	slices.Sort(env)
	return env
}

// emulatorEnv reads the export lines the emulator prints before serving,
// up to the client secret's, and returns them as the shell sets them.
func emulatorEnv(t *testing.T, a *asyncCLI) []string {
	t.Helper()
	var b strings.Builder
	for {
		l := a.line(t)
		if !strings.HasPrefix(l, "export ") {
			t.Fatalf("stdout line %q is not an export line", l)
		}
		b.WriteString(l + "\n")
		if strings.Contains(l, "client_secret=") {
			return shellEnv(t, b.String())
		}
	}
}

func TestEmulatorUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "0.0.0.0:9031"}, `--listen "0.0.0.0:9031" is not a loopback address`},
		{[]string{"--listen", ":9031"}, "not a loopback address"},
		{[]string{"--listen", "192.0.2.1:9031"}, "not a loopback address"},
		{[]string{"--flavor", "okta"}, `--flavor "okta"`},
		{[]string{"--pkce", "always"}, `--pkce "always"`},
		{[]string{"--auth-method", "private_key_jwt"}, `--auth-method "private_key_jwt"`},
		{[]string{"--groups-claim", " "}, "--groups-claim is empty"},
		{[]string{"--client-secret", ""}, "--client-secret must not be empty"},
		{[]string{"--print-env", "--listen", "127.0.0.1:0"}, "--print-env needs a fixed port"},
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := cli(t, nil, "", append([]string{"emulator"}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Errorf("exit %d (want 2), stderr %q (want %q), stdout %q", code, stderr, tc.want, stdout)
			}
		})
	}
	for _, h := range []string{"-h", "--help"} {
		code, stdout, stderr := cli(t, nil, "", "emulator", h)
		if code != 0 || !strings.Contains(stdout, "Usage: pingauthz emulator") || !strings.Contains(stdout, "-print-env") || stderr != "" {
			t.Errorf("emulator %s: exit %d, stdout %q, stderr %q", h, code, stdout, stderr)
		}
	}
	bad := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(bad, []byte(`[{"username": "x", "pasword": "y"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := cli(t, nil, "", "emulator", "--listen", "127.0.0.1:0", "--users", bad); code != 1 || !strings.Contains(stderr, bad) {
		t.Errorf("bad users file: exit %d, stderr %q", code, stderr)
	}
}

// --print-env prints, for each flavor, variables that load into a
// configuration naming the flavor's endpoints, the client and the settings
// the flags need; a secret with quotes survives the shell and HOCON.
func TestEmulatorPrintEnv(t *testing.T) {
	const secret = `it's a "secret" $HOME`
	for _, tc := range []struct {
		flavor    pingemu.Flavor
		args      []string
		authorize string
		check     func(*config.Config) bool
	}{
		{pingemu.PingOne, nil, "http://127.0.0.1:9031/" + pingemu.DefaultEnvID + "/as/authorize",
			func(c *config.Config) bool { return !c.CodeChallenge && c.Groups.Claim == "groups" && !c.Groups.FromDN }},
		{pingemu.PingOneCustomDomain, []string{"--pkce", "s256_required", "--listen", "localhost:9031"}, "http://127.0.0.1:9031/as/authorize",
			func(c *config.Config) bool { return c.CodeChallenge }},
		{pingemu.PingFederate, []string{"--groups-claim", "memberOf", "--groups-dn", "--listen", "[::1]:9031"}, "http://[::1]:9031/as/authorization.oauth2",
			func(c *config.Config) bool { return c.Groups.Claim == "memberOf" && c.Groups.FromDN }},
	} {
		t.Run(string(tc.flavor), func(t *testing.T) {
			args := append([]string{"emulator", "--print-env", "--flavor", string(tc.flavor), "--client-secret", secret}, tc.args...)
			code, stdout, stderr := cli(t, nil, "", args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			cfg, warnings, err := config.Load(shellEnv(t, stdout))
			if err != nil || len(warnings) > 0 {
				t.Fatalf("config.Load: %v, warnings %v\n%s", err, warnings, stdout)
			}
			if cfg.AuthorizeURL != tc.authorize || cfg.ClientID != emulatorClientID || cfg.ClientSecret != secret || !tc.check(cfg) {
				t.Errorf("configuration %+v\nfrom\n%s", cfg, stdout)
			}
			if _, err := ping.DeriveIssuer(cfg.AuthorizeURL, cfg.ClientID); err != nil {
				t.Errorf("the relying party cannot derive the issuer: %v", err)
			}
		})
	}
}

// The running emulator prints the same lines as --print-env for its
// address, and a login through the relying party works with them, on any
// port of the default loopback redirect URI.
func TestEmulatorServes(t *testing.T) {
	a := startAsync(t, nil, "emulator", "--listen", "127.0.0.1:0", "--flavor", "pingone-custom-domain", "--pkce", "required")
	env := emulatorEnv(t, a)
	cfg, _, err := config.Load(env)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(cfg.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	_, stdout, _ := cli(t, nil, "", "emulator", "--print-env", "--listen", u.Host, "--flavor", "pingone-custom-domain", "--pkce", "required")
	if got := shellEnv(t, stdout); !slices.Equal(got, env) {
		t.Errorf("--print-env for %s:\n%q\nthe running emulator:\n%q", u.Host, got, env)
	}

	ctx := context.Background()
	rp, err := ping.New(ctx, ping.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	redirect := "http://127.0.0.1:12345" + host.CallbackPath
	authURL, sealed, err := rp.Begin(ctx, redirect, "/")
	if err != nil {
		t.Fatal(err)
	}
	cb, err := pingemu.Login(ctx, nil, authURL, "bob", "bob-demo")
	if err != nil {
		t.Fatal(err)
	}
	done, err := rp.Complete(ctx, redirect, sealed, cb.Query())
	if err != nil {
		t.Fatal(err)
	}
	if id := done.Identity; id.Email != "bob@example.com" || strings.Join(id.Groups, ",") != "ML Team" || id.Issuer != u.Scheme+"://"+u.Host+"/as" {
		t.Errorf("identity %+v", id)
	}
	if !strings.Contains(a.stderr.String(), "bob-demo") {
		t.Errorf("stderr does not list the accounts:\n%s", a.stderr.String())
	}
	a.cancel()
	if code := a.wait(t); code != 0 {
		t.Errorf("exit %d after cancellation, want 0", code)
	}
}
