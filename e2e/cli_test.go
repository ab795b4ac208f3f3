package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/procfs"
	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/sso"
)

// process is a CLI process whose stdout is scanned line by line.
type process struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *testutil.SyncBuffer
	done   chan struct{}
	err    error
}

// startCLI starts bin with args and env (nothing inherited but PATH and
// HOME) in dir, and stops it at the end of the test.
func startCLI(t *testing.T, dir, bin string, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}, env...)
	p := &process{cmd: cmd, lines: make(chan string, 256), stderr: &testutil.SyncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		_, _ = io.Copy(io.Discard, out)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			// Ask first, so that a demo removes its temporary directory
			// and a server stops its plugin even when the test failed.
			_ = cmd.Process.Signal(syscall.SIGTERM)
			go func() {
				for range p.lines { // keep stdout drained
				}
			}()
			select {
			case <-p.done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", filepath.Base(bin), p.stderr.String())
		}
	})
	return p
}

// waitLine returns the first submatch of re in the next lines of stdout.
func (p *process) waitLine(t *testing.T, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				<-p.done
				t.Fatalf("process ended (%v) before printing %s", p.err, re)
			}
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-deadline:
			t.Fatalf("no line matching %s within %s", re, timeout)
		}
	}
}

// stop sends sig and returns the exit code.
func (p *process) stop(t *testing.T, sig os.Signal, timeout time.Duration) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range p.lines { // keep stdout drained
		}
	}()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("still running %s after %s", timeout, sig)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

// TestServeBinaryMissingVariable runs the built `pingauthz serve` with a
// required variable missing and a port it could not listen on: it must
// exit 2 naming the variable, before listening or creating the database.
func TestServeBinaryMissingVariable(t *testing.T) {
	cli := buildCLI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	db := filepath.Join(t.TempDir(), "x.db")
	env := []string{
		config.VarName("authorize_url", false) + "=https://auth.pingone.com/env/as/authorize",
		config.VarName("access_token_url", false) + "=https://auth.pingone.com/env/as/token",
		config.VarName("client_id", true) + "=id",
	}
	cmd := exec.Command(cli, "serve", "--listen", ln.Addr().String(), "--db", db)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2:\n%s", err, out)
	}
	if v := config.VarName("client_secret", true); !strings.Contains(string(out), v) {
		t.Errorf("output does not name %s:\n%s", v, out)
	}
	if strings.Contains(string(out), "address already in use") || strings.Contains(string(out), "serving") {
		t.Errorf("serve went past the configuration check:\n%s", out)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the database was created: %v", err)
	}
}

var servingLine = regexp.MustCompile(`serving (http://127\.0\.0\.1:\d+) on`)

// TestServeBinary runs the built server with its plugin next to it, seeds
// the directory with `pingauthz admin` while it runs, logs in, and stops it
// with SIGTERM.
func TestServeBinary(t *testing.T) {
	cli := buildCLI(t)
	idp, err := pingemu.Start(pingemu.Options{Users: []pingemu.User{{
		Username: "dana", Password: "dana-pw",
		Claims: map[string]any{"email": "dana@example.com", "email_verified": true, "name": "Dana"},
		Groups: []string{"ML Team", "Ops"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	defer idp.Close()
	env := append(config.RequiredEnv(idp.AuthorizeURL(), idp.TokenURL(), "serve-test", "serve-test-secret-0123456789abcdef"),
		config.VarName("groups__enabled", false)+"=true",
		config.VarName("code_challenge", false)+"=true",
		config.VarName("default_company", true)+"=c1",
	)
	dir := t.TempDir()
	db := filepath.Join(dir, "pingauthz.db")
	p := startCLI(t, dir, cli, env, "serve", "--listen", "127.0.0.1:0", "--db", db, "--directory-poll", "100ms")
	base := p.waitLine(t, servingLine, time.Minute)[1]
	if err := idp.AddClient(pingemu.Client{ID: "serve-test", Secret: "serve-test-secret-0123456789abcdef",
		RedirectURIs: []string{base + host.CallbackPath}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	login := func() *demo.LoginResult {
		r, err := demo.Login(ctx, demo.NewBrowserClient(nil), base, "dana", "dana-pw")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Company c1 does not exist yet: the sign-up is denied.
	if r := login(); r.Status != http.StatusForbidden {
		t.Fatalf("login before c1 exists: status %d, want 403", r.Status)
	}
	for _, args := range [][]string{
		{"company", "add", "c1", "--name", "Serve Co"},
		{"group", "add", "--company", "c1", "ML Team"},
	} {
		if out, err := exec.Command(cli, append([]string{"admin", "--db", db}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("admin %v: %v\n%s", args, err, out)
		}
	}
	// The server learns of the two changes on its own, maybe one at a time:
	// a login between them signs dana up without the group, and the next
	// login, once the group has arrived, syncs it. Wait for that outcome.
	var users []sso.Account
	err = retry(time.Minute, func() error {
		if r := login(); r.Status != http.StatusSeeOther || !r.Session {
			return errors.New("not signed in yet")
		}
		out, err := exec.Command(cli, "admin", "--db", db, "user", "list", "--json").Output()
		if err != nil {
			return err
		}
		if err := json.Unmarshal(out, &users); err != nil {
			return err
		}
		if len(users) != 1 || strings.Join(users[0].Groups, ",") != "ML Team" {
			return fmt.Errorf("users %+v, want dana in ML Team", users)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("login after the admin commands: %v", err)
	}
	if users[0].Email != "dana@example.com" || users[0].Company != "c1" {
		t.Errorf("users %+v", users)
	}

	plugins, err := procfs.ChildPIDs(p.cmd.Process.Pid, "pingauthz-plugin")
	if err != nil || len(plugins) != 1 {
		t.Fatalf("plugin processes of the server: %v, %v", plugins, err)
	}
	if code := p.stop(t, syscall.SIGTERM, time.Minute); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
	exe := filepath.Join("/proc", strconv.Itoa(plugins[0]), "exe")
	err = retry(30*time.Second, func() error {
		if target, err := os.Readlink(exe); err == nil && strings.Contains(target, "pingauthz-plugin") {
			return errors.New("still running")
		}
		return nil
	})
	if err != nil {
		t.Errorf("plugin %d still running after the server stopped", plugins[0])
	}
}

var publicServingLine = regexp.MustCompile(`serving (\S+) on (127\.0\.0\.1:\d+) \(callback (\S+)\)`)

// TestServePublicURL runs the built server behind an https public URL with
// the plugin given by --plugin: the printed callback, the redirect_uri sent
// to Ping and the login state cookie all follow --public-url, not the
// listen address.
func TestServePublicURL(t *testing.T) {
	cli := buildCLI(t)
	const public = "https://ml.example.com"
	idp, err := pingemu.Start(pingemu.Options{Clients: []pingemu.Client{{ID: "public-test",
		Secret: "public-test-secret-0123456789abcdef", RedirectURIs: []string{public + host.CallbackPath}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer idp.Close()
	env := config.RequiredEnv(idp.AuthorizeURL(), idp.TokenURL(), "public-test", "public-test-secret-0123456789abcdef")
	dir := t.TempDir()
	p := startCLI(t, dir, cli, env, "serve", "--listen", "127.0.0.1:0", "--public-url", public+"/",
		"--db", filepath.Join(dir, "pingauthz.db"), "--plugin", pluginBinary)
	m := p.waitLine(t, publicServingLine, time.Minute)
	if m[1] != public || m[3] != public+host.CallbackPath {
		t.Fatalf("serving line %q, want %s with callback %s%s", m[0], public, public, host.CallbackPath)
	}
	hc := demo.NewBrowserClient(nil)
	resp, err := hc.Get("http://" + m[2] + "/login/ping")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("/login/ping: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Query().Get("redirect_uri"); got != public+host.CallbackPath {
		t.Errorf("redirect_uri %q, want %s%s", got, public, host.CallbackPath)
	}
	var state *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Value != "" && c.Path == "/" && strings.HasPrefix(c.Name, "__Host-") {
			state = c
		}
	}
	if state == nil || !state.Secure || !state.HttpOnly || state.SameSite != http.SameSiteLaxMode {
		t.Errorf("login state cookie %+v, want a __Host- cookie for /, Secure, HttpOnly, SameSite=Lax", state)
	}
	if code := p.stop(t, syscall.SIGTERM, time.Minute); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
}

var (
	openLine     = regexp.MustCompile(`^\s+Open\s+(http://127\.0\.0\.1:\d+)/`)
	databaseLine = regexp.MustCompile(`^\s+Database\s+(\S+)`)
)

// runDemoBinary runs `pingauthz demo` from bin in dir, logs bob in, and
// stops it with SIGINT; it returns the demo's stderr.
func runDemoBinary(t *testing.T, dir, bin string, startTimeout time.Duration) string {
	t.Helper()
	p := startCLI(t, dir, bin, nil, "demo", "--listen", "127.0.0.1:0")
	base := p.waitLine(t, openLine, startTimeout)[1]
	dbPath := p.waitLine(t, databaseLine, 30*time.Second)[1]
	for _, u := range demo.DefaultUsers() {
		account := regexp.MustCompile(`^\s+` + regexp.QuoteMeta(u.Username) + `\s+` + regexp.QuoteMeta(u.Password) + `\s`)
		p.waitLine(t, account, 30*time.Second)
	}
	u, _ := demo.FindUser(demo.DefaultUsers(), demo.Member)
	r, err := demo.Login(context.Background(), demo.NewBrowserClient(nil), base, u.Username, u.Password)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusSeeOther || !r.Session {
		t.Errorf("bob's login: %+v", r)
	}
	if _, err := os.Stat(dbPath); err != nil {
		t.Errorf("database while running: %v", err)
	}
	if code := p.stop(t, os.Interrupt, time.Minute); code != 0 {
		t.Errorf("exit %d after SIGINT, want 0", code)
	}
	if _, err := os.Stat(filepath.Dir(dbPath)); !os.IsNotExist(err) {
		t.Errorf("the demo's directory %s is still there: %v", filepath.Dir(dbPath), err)
	}
	return p.stderr.String()
}

// TestDemoBinary runs the built `pingauthz demo` with its plugin next to it.
func TestDemoBinary(t *testing.T) {
	runDemoBinary(t, t.TempDir(), buildCLI(t), time.Minute)
}

// TestDemoBuildsPlugin runs `pingauthz demo` with no plugin next to it, in
// the source tree, as `go run ./cmd/pingauthz demo` does: it builds one.
func TestDemoBuildsPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin; skipped in -short mode")
	}
	alone := filepath.Join(t.TempDir(), "pingauthz")
	copyFile(t, buildCLI(t), alone)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	stderr := runDemoBinary(t, root, alone, 5*time.Minute)
	if !strings.Contains(stderr, "Building pingauthz-plugin") {
		t.Errorf("the demo did not say it built the plugin:\n%s", stderr)
	}
}
