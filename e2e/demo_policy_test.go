package e2e_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/demo"
)

// demoRun is a running `pingauthz demo` binary and what its banner said.
type demoRun struct {
	p        *process
	base     string
	banner   []string // the banner's lines from "From your environment" on
	accounts map[string]string
}

var accountLine = regexp.MustCompile(`^\s+(\S+)\s+(\S+)\s{2,}.*?\s{2,}(\S.*)$`)

// startDemoBinary runs the built `pingauthz demo` with env and args, and
// reads its banner up to the accounts table's end.
func startDemoBinary(t *testing.T, env []string, args ...string) *demoRun {
	t.Helper()
	dir := t.TempDir()
	p := startCLI(t, dir, buildCLI(t), env, append([]string{"demo", "--listen", "127.0.0.1:0"}, args...)...)
	r := &demoRun{p: p, base: p.waitLine(t, openLine, time.Minute)[1], accounts: map[string]string{}}
	deadline := time.After(time.Minute)
	inTable := false
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("demo ended before its banner did:\n%s", p.stderr.String())
			}
			switch {
			case strings.HasPrefix(line, "Press Ctrl+C"):
				return r
			case strings.Contains(line, "FIRST LOGIN"):
				inTable = true
			case inTable:
				if m := accountLine.FindStringSubmatch(line); m != nil {
					r.accounts[m[1]] = m[3]
				}
			default:
				r.banner = append(r.banner, line)
			}
		case <-deadline:
			t.Fatal("no end of the banner within a minute")
		}
	}
}

// login signs username in over HTTP and returns the account /api/me shows.
func (r *demoRun) login(t *testing.T, username, password string) (int, string) {
	t.Helper()
	hc := demo.NewBrowserClient(nil)
	res, err := demo.Login(context.Background(), hc, r.base, username, password)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusSeeOther {
		return res.Status, ""
	}
	resp, err := hc.Get(r.base + "/api/me")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.Status, string(b)
}

// TestDemoTakesOperatorPolicy runs `pingauthz demo` with the operator's
// policy-shaping variables, a policy__dir and a users file in the
// emulator's format: they are kept (the provider's are not), the banner
// says so and predicts each first login, and the logins match.
func TestDemoTakesOperatorPolicy(t *testing.T) {
	policyDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(policyDir, "helpers.rego"), []byte("package clearml.helpers\n\nteam := \"ML Team\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(users, []byte(`users:
  - username: dana
    password: dana-pw
    email: dana@example.com
    email_verified: true
    name: Dana Lead
    groups: [ML Team]
  - username: erin
    password: erin-pw
    email: erin@example.com
    email_verified: true
    groups: [Contractors]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	v := config.VarName
	env := []string{
		v("groups__admins", false) + `=["ML Team"]`,
		v("groups__claim", false) + "=memberOf",
		v("groups__from_dn", false) + "=true",
		v("policy__dir", false) + "=" + policyDir,
		v("authorize_url", false) + "=https://auth.pingone.com/not-used/as/authorize",
		v("client_secret", true) + "=not-used",
	}
	r := startDemoBinary(t, env, "--users", users)
	banner := strings.Join(r.banner, "\n")
	for _, want := range []string{
		"From your environment: groups__admins, groups__claim, groups__from_dn, policy__dir",
		`admin groups ["ML Team"]`, `claim "memberOf", CN of each DN`,
		"the defaults with 1 file of " + policyDir, "adds       helpers.rego",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("the banner lacks %q:\n%s", want, banner)
		}
	}
	if !regexp.MustCompile(`Policy revision sha256:[0-9a-f]{64}`).MatchString(banner) {
		t.Errorf("the banner has no policy revision:\n%s", banner)
	}
	if got := r.accounts["dana"]; got != "admin in ML Team" {
		t.Errorf("dana's first login: banner says %q, want admin in ML Team", got)
	}
	if got := r.accounts["erin"]; !strings.HasPrefix(got, "denied: ") {
		t.Errorf("erin's first login: banner says %q, want a denial", got)
	}
	for _, name := range []string{v("authorize_url", false), v("client_secret", true)} {
		if !strings.Contains(r.p.stderr.String(), "ignoring "+name) {
			t.Errorf("stderr does not say %s is ignored:\n%s", name, r.p.stderr.String())
		}
	}

	if status, me := r.login(t, "dana", "dana-pw"); status != http.StatusSeeOther ||
		!strings.Contains(me, `"role":"admin"`) || !strings.Contains(me, `"groups":["ML Team"]`) {
		t.Errorf("dana: status %d, account %s", status, me)
	}
	if status, _ := r.login(t, "erin", "erin-pw"); status != http.StatusForbidden {
		t.Errorf("erin: status %d, want 403", status)
	}
	if code := r.p.stop(t, os.Interrupt, time.Minute); code != 0 {
		t.Errorf("exit %d after SIGINT", code)
	}
}
