package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/pingcheck"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/sso"
)

// anyLine matches every line.
var anyLine = regexp.MustCompile(`^.*$`)

// testdataPath returns the absolute path of a file under testdata/.
func testdataPath(t *testing.T, elem ...string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(append([]string{"..", "testdata"}, elem...)...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// extendUsers loads the accounts for the testdata/extend examples.
func extendUsers(t *testing.T) (string, []pingemu.User) {
	t.Helper()
	path := testdataPath(t, "demo", "extend-users.yaml")
	users, err := pingemu.LoadUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, users
}

// emulatorExports reads the export lines `pingauthz emulator` prints, up
// to the client secret's, as NAME=value entries.
func emulatorExports(t *testing.T, p *process) []string {
	t.Helper()
	var env []string
	for {
		line := p.waitLine(t, anyLine, time.Minute)[0]
		kv, ok := strings.CutPrefix(line, "export ")
		if !ok {
			t.Fatalf("emulator stdout line %q is not an export line", line)
		}
		name, value, _ := strings.Cut(kv, "=")
		if v, quoted := strings.CutPrefix(value, "'"); quoted {
			value = strings.ReplaceAll(strings.TrimSuffix(v, "'"), `'\''`, "'")
		}
		env = append(env, name+"="+value)
		if strings.HasSuffix(name, "client_secret") {
			return env
		}
	}
}

// accountOf logs username in over HTTP at base and returns /api/me.
func accountOf(t *testing.T, base, username, password string) *sso.Account {
	t.Helper()
	hc := demo.NewBrowserClient(nil)
	r, err := demo.Login(context.Background(), hc, base, username, password)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusSeeOther || !r.Session {
		t.Fatalf("login %s: %+v", username, r)
	}
	resp, err := hc.Get(base + "/api/me")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a sso.Account
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return &a
}

// runPingCheck runs `pingauthz ping check --login --json` with env, signs
// username in at the URL it prints on stderr, and returns its report.
func runPingCheck(t *testing.T, env []string, username, password string, args ...string) (int, *pingcheck.Report) {
	t.Helper()
	cmd := exec.Command(buildCLI(t), append([]string{"ping", "check", "--login", "--json",
		"--redirect-uri", "http://127.0.0.1:0/oidc/callback"}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	sc := bufio.NewScanner(stderr)
	authURL := ""
	for authURL == "" && sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "http") {
			authURL = l
		}
	}
	if authURL == "" {
		t.Fatal("ping check printed no authorize URL")
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	cb, err := pingemu.Login(context.Background(), nil, authURL, username, password)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	code := 0
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	var r pingcheck.Report
	if err := json.Unmarshal([]byte(stdout.String()), &r); err != nil {
		t.Fatalf("ping check report: %v\n%s", err, stdout.String())
	}
	return code, &r
}

// TestEmulatorServeExtension runs the operator's loop with the real
// binaries: `pingauthz emulator` with the extension examples' accounts,
// `pingauthz serve` pointed at it by the lines the emulator printed and
// with the team_leads extension in policy__dir, a real login of each kind,
// and `pingauthz ping check --login` deciding on the same database.
func TestEmulatorServeExtension(t *testing.T) {
	cli := buildCLI(t)
	dir := t.TempDir()
	usersFile, users := extendUsers(t)
	emu := startCLI(t, dir, cli, nil, "emulator", "--listen", "127.0.0.1:0", "--users", usersFile)
	env := append(emulatorExports(t, emu),
		config.VarName("groups__enabled", false)+"=true",
		config.VarName("default_company", true)+"=c1",
		config.VarName("policy__dir", false)+"="+testdataPath(t, "extend", "team_leads"),
	)
	db := filepath.Join(dir, "ml.db")
	for _, args := range [][]string{{"company", "add", "c1", "--name", "Try Co"}, {"group", "add", "--company", "c1", "ML Team"}} {
		if out, err := exec.Command(cli, append([]string{"admin", "--db", db}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("admin %v: %v\n%s", args, err, out)
		}
	}
	srv := startCLI(t, dir, cli, env, "serve", "--listen", "127.0.0.1:0", "--db", db, "--plugin", pluginBinary)
	base := srv.waitLine(t, servingLine, time.Minute)[1]

	password := func(name string) string {
		u, ok := demo.FindUser(users, name)
		if !ok {
			t.Fatalf("no account %s in %s", name, usersFile)
		}
		return u.Password
	}
	// ping check decides on the sign-in as serve will: lee is a new user
	// whom the extension makes an admin.
	code, r := runPingCheck(t, env, "lee", password("lee"), "--db", db)
	if code != 0 || r.Login == nil || r.Login.Decision == nil {
		t.Fatalf("ping check: exit %d, report %+v", code, r)
	}
	if d := r.Login.Decision.Decision; !d.Allow || d.Role == nil || *d.Role != sso.RoleAdmin || !slices.Contains(d.Reasons, "role:team_lead") {
		t.Errorf("ping check decision %+v", d)
	}

	lee := accountOf(t, base, "lee", password("lee"))
	if lee.Role != sso.RoleAdmin || !slices.Contains(lee.Reasons, "role:team_lead") || !slices.Equal(lee.Groups, []string{"ML Team"}) {
		t.Errorf("lee: %+v, want an admin through role:team_lead in ML Team", lee)
	}
	dana := accountOf(t, base, "dana", password("dana"))
	if dana.Role != sso.RoleUser || slices.Contains(dana.Reasons, "role:team_lead") {
		t.Errorf("dana: %+v, want a user", dana)
	}
	for name, p := range map[string]*process{"serve": srv, "emulator": emu} {
		if code := p.stop(t, syscall.SIGTERM, time.Minute); code != 0 {
			t.Errorf("%s: exit %d after SIGTERM", name, code)
		}
	}
}

// TestDemoExtensionInBrowser runs `pingauthz demo` with the operator
// trial's extension (Team Leads are admins; no sign-ups from
// contractor.example) and sees both in Chromium: the banner predicts them,
// the signed-in page explains the role with the extension's sentence, and
// the denial page shows the extension's message.
func TestDemoExtensionInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is skipped in -short mode")
	}
	bctx := newBrowserAllocator(t)
	usersFile, users := extendUsers(t)
	policyDir := testdataPath(t, "extend", "trial")
	r := startDemoBinary(t, []string{config.VarName("policy__dir", false) + "=" + policyDir}, "--users", usersFile)
	banner := strings.Join(r.banner, "\n")
	for _, want := range []string{"of " + policyDir + ", 1 extension", "extension  trial.rego (package clearml.sso.extend)", "test       trial_test.rego"} {
		if !strings.Contains(banner, want) {
			t.Errorf("the banner lacks %q:\n%s", want, banner)
		}
	}
	const message = "Sign-ups from contractor.example are closed. Ask your ClearML admin."
	if got := r.accounts["lee"]; got != "admin in ML Team" {
		t.Errorf("banner: lee's first login %q, want admin in ML Team", got)
	}
	if got := r.accounts["cora"]; got != "denied: "+message {
		t.Errorf("banner: cora's first login %q, want the extension's message", got)
	}
	d := &demo.Demo{URL: r.base, Users: users}

	t.Run("team lead", func(t *testing.T) {
		ctx := browserLogin(t, bctx, d, "lee")
		if got := textOf(t, ctx, "role"); got != sso.RoleAdmin {
			t.Errorf("role %q, want admin", got)
		}
		if got, want := textOf(t, ctx, "role-reason"), sso.Sentence("role:team_lead"); got != want {
			t.Errorf("role reason %q, want %q", got, want)
		}
	})
	t.Run("contractor", func(t *testing.T) {
		ctx := browserLogin(t, bctx, d, "cora")
		if got := textOf(t, ctx, "account"); got != "cora@contractor.example" {
			t.Errorf("denied account %q", got)
		}
		body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body, message) {
			t.Errorf("the denial page does not show the extension's message:\n%s", body)
		}
	})
	if code := r.p.stop(t, os.Interrupt, time.Minute); code != 0 {
		t.Errorf("exit %d after SIGINT", code)
	}
}
