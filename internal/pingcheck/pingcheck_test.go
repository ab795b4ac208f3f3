package pingcheck

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/sso"
)

const (
	testClient   = "app"
	testSecret   = "app-secret-0123456789abcdef"
	testRedirect = "http://127.0.0.1:9/cb"
)

func startEmulator(t *testing.T, opts pingemu.Options) *pingemu.Server {
	t.Helper()
	opts.Users = []pingemu.User{{Username: "alice", Password: "pw", Groups: []string{"ML Team"},
		Claims: map[string]any{"email": "alice@example.com", "email_verified": true}}}
	opts.Clients = []pingemu.Client{{ID: testClient, Secret: testSecret, RedirectURIs: []string{testRedirect}}}
	idp, err := pingemu.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Close() })
	return idp
}

func newChecker(t *testing.T, idp *pingemu.Server, edit func(*config.Config)) *Checker {
	t.Helper()
	cfg, _, err := config.Load(config.RequiredEnv(idp.AuthorizeURL(), idp.TokenURL(), testClient, testSecret))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	c, err := New(context.Background(), Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// failedChecks returns the names of the checks that failed, and their
// sentences.
func failedChecks(checks []Check) ([]string, string) {
	var names []string
	var text strings.Builder
	for _, c := range checks {
		if !c.OK {
			names = append(names, c.Name)
			text.WriteString(c.Sentence + "\n")
		}
	}
	return names, text.String()
}

func TestProviderChecksConfigured(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults pingemu.Faults
		edit   func(idp *pingemu.Server) func(*config.Config)
		failed string // the failing checks, joined by ","
		want   string // in the sentences of the failing checks
	}{
		{name: "no discovery, issuer and jwks_url configured", faults: pingemu.Faults{NoDiscovery: true},
			edit: func(idp *pingemu.Server) func(*config.Config) {
				return func(c *config.Config) {
					c.Issuer, c.JWKSURL, c.UserinfoURL = idp.Issuer(), idp.JWKSURL(), idp.UserinfoURL()
				}
			}},
		{name: "no discovery, nothing configured", faults: pingemu.Faults{NoDiscovery: true},
			failed: "discovery,jwks,token_auth_method,client_credentials,pkce,userinfo", want: config.VarName("jwks_url", false)},
		{name: "wrong userinfo URL",
			edit: func(idp *pingemu.Server) func(*config.Config) {
				return func(c *config.Config) { c.UserinfoURL = idp.URL() + "/nowhere" }
			},
			failed: "userinfo", want: "HTTP 404"},
		{name: "HS256 only", faults: pingemu.Faults{HS256: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := startEmulator(t, pingemu.Options{Faults: tc.faults})
			var edit func(*config.Config)
			if tc.edit != nil {
				edit = tc.edit(idp)
			}
			checks, _ := newChecker(t, idp, edit).ProviderChecks(context.Background(), testRedirect)
			names, text := failedChecks(checks)
			if strings.Join(names, ",") != tc.failed || !strings.Contains(text, tc.want) {
				t.Errorf("failed %q (want %q), sentences:\n%s", names, tc.failed, text)
			}
		})
	}
}

// loginWith signs alice in through the checker and finishes the login.
func loginWith(t *testing.T, c *Checker, d *Decider) (*Login, []Check) {
	t.Helper()
	ctx := context.Background()
	authURL, sealed, err := c.Begin(ctx, testRedirect)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := pingemu.Login(ctx, nil, authURL, "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	return c.Login(ctx, testRedirect, sealed, cb.Query(), d)
}

// A policy that decides in the wrong shape fails the decision check with
// the policy error, and the sign-in itself still passes.
func TestDecisionPolicyError(t *testing.T) {
	idp := startEmulator(t, pingemu.Options{})
	dir := t.TempDir()
	// An extension value that is malformed only for this login (a message
	// over 200 characters) passes the policy check and fails at login time.
	ext := "package clearml.sso.extend\n\ndeny contains {\"code\": \"deny:long\", \"message\": concat(\"\", [\"x\" | some _ in numbers.range(1, 300)])} if {\n\tinput.identity.email == \"alice@example.com\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "extend.rego"), []byte(ext), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newChecker(t, idp, func(cfg *config.Config) { cfg.PolicyDir = dir })
	d, err := NewDecider(context.Background(), c.cfg, &sso.Directory{}, nil, "an empty directory")
	if err != nil {
		t.Fatal(err)
	}
	l, checks := loginWith(t, c, d)
	names, text := failedChecks(checks)
	if strings.Join(names, ",") != CheckDecision || !strings.Contains(text, sso.ReasonPolicyError) {
		t.Errorf("failed %q:\n%s", names, text)
	}
	if l.Decision == nil || l.Decision.Decision.Allow || l.Decision.Reasons[0].Code != sso.ReasonPolicyError {
		t.Errorf("decision %+v", l.Decision)
	}
}

// A groups claim that breaks extraction (DNs expected, names sent) fails
// the login, and the verified claims are still shown.
func TestLoginClaimsShownOnExtractionFailure(t *testing.T) {
	idp := startEmulator(t, pingemu.Options{})
	c := newChecker(t, idp, func(cfg *config.Config) { cfg.Groups.Enabled, cfg.Groups.FromDN = true, true })
	l, checks := loginWith(t, c, nil)
	names, text := failedChecks(checks)
	if strings.Join(names, ",") != CheckLogin+","+CheckGroupsClaim || !strings.Contains(text, "not an LDAP DN") {
		t.Errorf("failed %q:\n%s", names, text)
	}
	if l.IDTokenClaims["email"] != "alice@example.com" || l.Identity != nil || l.GroupsClaim.Source != "id_token+userinfo" {
		t.Errorf("login %+v", l)
	}
}

func TestListenCallback(t *testing.T) {
	for _, bad := range []string{
		"https://127.0.0.1:8250/cb", "http://192.0.2.1:8250/cb", "http://127.0.0.1/cb", "http://127.0.0.1:8250/cb?x=1",
		"http://user@127.0.0.1:8250/cb", "::",
	} {
		if cb, err := ListenCallback(bad); err == nil {
			cb.Close()
			t.Errorf("ListenCallback(%q) accepted", bad)
		}
	}
	cb, err := ListenCallback("http://localhost:0/oidc/callback")
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	if !strings.HasPrefix(cb.RedirectURI, "http://localhost:") || strings.HasPrefix(cb.RedirectURI, "http://localhost:0/") ||
		!strings.HasSuffix(cb.RedirectURI, "/oidc/callback") {
		t.Fatalf("RedirectURI %q", cb.RedirectURI)
	}
	base := strings.Replace(cb.RedirectURI, "localhost", "127.0.0.1", 1)
	get := func(u string) (int, string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, _ := get(strings.TrimSuffix(base, "/callback") + "/other"); status != http.StatusNotFound {
		t.Errorf("another path: status %d", status)
	}
	if status, body := get(base + "?code=c&state=s"); status != 200 || !strings.Contains(body, "reached pingauthz ping check") {
		t.Errorf("first callback: %d %s", status, body)
	}
	if status, body := get(base + "?code=other"); status != 200 || !strings.Contains(body, "already received") {
		t.Errorf("second callback: %d %s", status, body)
	}
	q, err := cb.Wait(context.Background())
	if err != nil || q.Get("code") != "c" || q.Get("state") != "s" {
		t.Errorf("Wait = %v, %v", q, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := cb.Wait(ctx); err == nil || !strings.Contains(err.Error(), "in time") {
		t.Errorf("Wait after the deadline: %v", err)
	}
}

func TestWrap(t *testing.T) {
	got := wrap("one two three four five six", 9)
	if strings.Join(got, "|") != "one two|three|four five|six" {
		t.Errorf("wrap = %q", got)
	}
	if got := wrap(strings.Repeat("x", 20), 9); len(got) != 1 {
		t.Errorf("a long word is split: %q", got)
	}
}
