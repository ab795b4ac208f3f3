package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingcheck"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/store"
	"github.com/pingauthz/pingauthz/sso"
)

const (
	checkClient = "check-app"
	checkSecret = "check-secret-0123456789abcdef"
	// checkRedirect listens on any free port; the emulator accepts any.
	checkRedirect = "http://127.0.0.1:0" + pingCheckCallbackPath
)

// checkEmulator starts an emulator of flavor with alice (groups "ML Team"
// and "Admins") and a client for ping check on any loopback port.
func checkEmulator(t *testing.T, flavor pingemu.Flavor, method string, pkce pingemu.PKCEMode) *pingemu.Server {
	t.Helper()
	idp, err := pingemu.Start(pingemu.Options{
		Flavor: flavor,
		Users: []pingemu.User{{Username: "alice", Password: "alice-pw", Groups: []string{"ML Team", "Admins"},
			Claims: map[string]any{"email": "alice@example.com", "email_verified": true, "name": "Alice"}}},
		Clients: []pingemu.Client{{ID: checkClient, Secret: checkSecret, AuthMethod: method, PKCE: pkce,
			RedirectURIs: []string{"http://127.0.0.1" + pingCheckCallbackPath}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Close() })
	return idp
}

// checkEnv points ping check at idp with groups and role sync into c1.
func checkEnv(idp *pingemu.Server, extra ...string) []string {
	v := func(key string, secure bool, value string) string { return config.VarName(key, secure) + "=" + value }
	env := append(config.RequiredEnv(idp.AuthorizeURL(), idp.TokenURL(), checkClient, checkSecret),
		v("groups__enabled", false, "true"), v("groups__admins", false, `["Admins"]`), v("default_company", true, "c1"))
	// A later entry for the same variable replaces the earlier one.
	for _, kv := range extra {
		name, _, _ := strings.Cut(kv, "=")
		env = slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		env = append(env, kv)
	}
	return env
}

// writeDirectory writes a directory file with company c1 and its groups.
func writeDirectory(t *testing.T, groups ...string) string {
	t.Helper()
	b, err := json.Marshal(sso.Directory{Companies: map[string]sso.Company{"c1": {Name: "Check Co", Groups: groups}}})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "directory.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkLogin runs `ping check --login --json` with env, signs alice in at
// the URL it prints (when it prints one), and returns the exit code and
// the report.
func checkLogin(t *testing.T, env []string, args ...string) (int, *pingcheck.Report) {
	t.Helper()
	a := startAsync(t, env, append([]string{"ping", "check", "--login", "--json", "--redirect-uri", checkRedirect}, args...)...)
	authURL := ""
	for l := range a.errLines {
		if strings.HasPrefix(l, "  http") {
			authURL = strings.TrimSpace(l)
			break
		}
	}
	if authURL != "" {
		ctx := context.Background()
		cb, err := pingemu.Login(ctx, nil, authURL, "alice", "alice-pw")
		if err != nil {
			t.Fatalf("signing in at %s: %v", authURL, err)
		}
		resp, err := http.Get(cb.String())
		if err != nil {
			t.Fatalf("callback: %v", err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "reached pingauthz ping check") {
			t.Errorf("callback page %d: %s", resp.StatusCode, page)
		}
	}
	code := a.wait(t)
	var r pingcheck.Report
	if err := json.Unmarshal([]byte(a.stdout.String()), &r); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, a.stdout.String())
	}
	return code, &r
}

// checkResult returns a check of the report by name.
func checkResult(t *testing.T, r *pingcheck.Report, name string) pingcheck.Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, r.Checks)
	return pingcheck.Check{}
}

// TestPingCheckLogin runs ping check --login against the emulator in each
// flavor: a good configuration, then each failure it must name.
func TestPingCheckLogin(t *testing.T) {
	flavors := []struct {
		flavor pingemu.Flavor
		method string
		pkce   pingemu.PKCEMode
		extra  []string
	}{
		{pingemu.PingOne, pingemu.AuthBasic, pingemu.PKCEOptional, nil},
		{pingemu.PingOneCustomDomain, pingemu.AuthPost, pingemu.PKCES256Required,
			[]string{config.VarName("code_challenge", false) + "=true"}},
		{pingemu.PingFederate, pingemu.AuthBasic, pingemu.PKCEOptional, nil},
	}
	groupsDir := writeDirectory(t, "ML Team", "Data")
	for _, fl := range flavors {
		t.Run(string(fl.flavor), func(t *testing.T) {
			idp := checkEmulator(t, fl.flavor, fl.method, fl.pkce)
			for _, tc := range []struct {
				name   string
				faults pingemu.Faults
				env    []string
				// failed lists the checks that must fail; all others pass.
				failed []string
				// want is in the failing check's sentence, or in the
				// report of a good login.
				want string
			}{
				{name: "good", want: `"ML Team", "Admins"`},
				{name: "wrong client secret", env: []string{config.VarName("client_secret", true) + "=wrong-secret"},
					failed: []string{pingcheck.CheckClientCredentials, pingcheck.CheckLogin}, want: "invalid_client"},
				{name: "wrong configured issuer", env: []string{config.VarName("issuer", false) + "=" + idp.Issuer() + "/wrong"},
					failed: []string{pingcheck.CheckIssuer, pingcheck.CheckDiscovery, pingcheck.CheckJWKS, pingcheck.CheckTokenAuthMethod,
						pingcheck.CheckClientCredentials, pingcheck.CheckPKCE, pingcheck.CheckUserinfo, pingcheck.CheckLogin},
					want: "unset " + config.VarName("issuer", false)},
				{name: "ID token from another issuer", faults: pingemu.Faults{WrongIssuer: true},
					failed: []string{pingcheck.CheckLogin}, want: "another issuer"},
				{name: "groups claim absent", faults: pingemu.Faults{GroupsClaim: "memberOf"},
					failed: []string{pingcheck.CheckGroupsClaim}, want: `"memberOf"`},
				{name: "DN groups", faults: pingemu.Faults{GroupsAsDN: true}, env: []string{config.VarName("groups__from_dn", false) + "=true"},
					want: `"ML Team", "Admins"`},
				{name: "DN groups without from_dn", faults: pingemu.Faults{GroupsAsDN: true},
					failed: []string{pingcheck.CheckGroupsClaim}, want: config.VarName("groups__from_dn", false) + "=true"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					idp.SetFaults(tc.faults)
					code, r := checkLogin(t, checkEnv(idp, append(slices.Clone(fl.extra), tc.env...)...), "--directory", groupsDir)
					var failed []string
					text := ""
					for _, c := range r.Checks {
						if !c.OK {
							failed = append(failed, c.Name)
							text += c.Sentence + "\n"
						}
					}
					wantCode := 0
					if len(tc.failed) > 0 {
						wantCode = 1
					}
					if code != wantCode || r.OK != (wantCode == 0) || !slices.Equal(failed, tc.failed) {
						t.Fatalf("exit %d, ok %v, failed %q; want exit %d, failed %q\n%s", code, r.OK, failed, wantCode, tc.failed, text)
					}
					if len(tc.failed) > 0 && !strings.Contains(text, tc.want) {
						t.Errorf("the failed checks do not say %q:\n%s", tc.want, text)
					}
					if len(tc.failed) > 0 {
						return
					}
					l := r.Login
					if l == nil || l.Identity == nil || l.Decision == nil {
						t.Fatalf("login %+v", l)
					}
					if l.Identity.Email != "alice@example.com" || strings.Join(l.Identity.Groups, ",") != "ML Team,Admins" {
						t.Errorf("identity %+v", l.Identity)
					}
					if got := checkResult(t, r, pingcheck.CheckGroupsClaim).Sentence; !strings.Contains(got, tc.want) {
						t.Errorf("groups_claim %q does not say %q", got, tc.want)
					}
					if l.IDTokenClaims["iss"] != idp.Issuer() || l.UserinfoClaims["sub"] != l.Identity.Subject {
						t.Errorf("claims: ID token %v, userinfo %v", l.IDTokenClaims, l.UserinfoClaims)
					}
					d := l.Decision.Decision
					if !d.Allow || d.Role == nil || *d.Role != sso.RoleAdmin || strings.Join(d.Groups, ",") != "ML Team" {
						t.Errorf("decision %+v", d)
					}
					if len(l.Decision.Reasons) != 3 || l.Decision.Reasons[1].Sentence != sso.Sentence(sso.ReasonRoleAdminGroup) {
						t.Errorf("reasons %+v", l.Decision.Reasons)
					}
				})
			}
		})
	}
}

// The text report shows each check, the claims, the identity and the
// decision with its sentences; no token, code or secret.
func TestPingCheckText(t *testing.T) {
	idp := checkEmulator(t, pingemu.PingOne, pingemu.AuthBasic, pingemu.PKCEOptional)
	dbPath := filepath.Join(t.TempDir(), "ml.db")
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddCompany(ctx, "c1", "Check Co"); err != nil {
		t.Fatal(err)
	}
	if err := st.AddGroup(ctx, "c1", "ML Team"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	a := startAsync(t, checkEnv(idp), "ping", "check", "--login", "--redirect-uri", checkRedirect, "--db", dbPath)
	authURL := strings.TrimSpace(a.errLine(t, func(l string) bool { return strings.HasPrefix(l, "  http") }))
	cb, err := pingemu.Login(ctx, nil, authURL, "alice", "alice-pw")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code := a.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, a.stdout.String())
	}
	out := a.stdout.String()
	for _, want := range []string{
		"PASS  client_credentials", "PASS  login", "PASS  groups_claim", "PASS  decision",
		"ID token claims (verified", `"email": "alice@example.com"`, "Userinfo claims:",
		`groups    "ML Team", "Admins" (claim "groups" from id_token and userinfo)`,
		"Decision against --db " + dbPath, "ALLOW  sign-up true, company c1, role admin", sso.Sentence(sso.ReasonSignupDefaultCompany),
		"10 of 10 checks passed.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{checkSecret, cb.Query().Get("code"), "eyJ"} {
		if strings.Contains(out+a.stderr.String(), secret) {
			t.Errorf("the output shows %q", secret)
		}
	}
	// Nothing was created.
	st, err = store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if users, err := st.Users(ctx); err != nil || len(users) != 0 {
		t.Errorf("users after the check: %v, %v", users, err)
	}

	// Once alice exists, the check finds her in --db.
	sub, _ := idp.Subject("alice")
	role := sso.RoleUser
	if _, err := st.Apply(ctx, &sso.Identity{Issuer: idp.Issuer(), Subject: sub, UserID: sub, Email: "alice@example.com", Groups: []string{}},
		&sso.Decision{Allow: true, Signup: true, Company: "c1", Role: &role, Groups: []string{}, Reasons: []string{sso.ReasonSignupDefaultCompany}}); err != nil {
		t.Fatal(err)
	}
	code, r := checkLogin(t, checkEnv(idp), "--db", dbPath)
	if code != 0 || r.Login.Decision.User == nil || r.Login.Decision.User.Company != "c1" ||
		r.Login.Decision.Reasons[0].Code != sso.ReasonExistingUser {
		t.Errorf("exit %d, decision %+v", code, r.Login.Decision)
	}
}

func TestPingCheckUsage(t *testing.T) {
	idp := checkEmulator(t, pingemu.PingOne, pingemu.AuthBasic, pingemu.PKCEOptional)
	env := checkEnv(idp)
	for _, tc := range []struct {
		env  []string
		args []string
		code int
		want string // on stderr
	}{
		{env, []string{"ping"}, 2, "want a command: check"},
		{env, []string{"ping", "pong"}, 2, `unknown command "pong"`},
		{env, []string{"ping", "check", "extra"}, 2, `unexpected argument "extra"`},
		{env, []string{"ping", "check", "--directory", "d.json"}, 2, "need --login"},
		{env, []string{"ping", "check", "--login", "--directory", "d.json", "--db", "x.db"}, 2, "not both"},
		{env, []string{"ping", "check", "--login", "--redirect-uri", "https://127.0.0.1:8250/cb"}, 2, "--redirect-uri"},
		{env, []string{"ping", "check", "--login", "--redirect-uri", "http://192.0.2.1:8250/cb"}, 2, "a loopback host"},
		{env, []string{"ping", "check", "--login", "--db", filepath.Join(t.TempDir(), "none.db")}, 2, "none.db"},
		{env, []string{"ping", "check", "--login", "--directory", filepath.Join(t.TempDir(), "none.json")}, 2, "none.json"},
		{env, []string{"ping", "check", "--timeout", "0s"}, 2, "--timeout"},
		{env[:1], []string{"ping", "check"}, 2, config.VarName("client_secret", true)},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := cli(t, tc.env, "", tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Contains(stdout, "PASS") {
				t.Errorf("exit %d (want %d), stderr %q (want %q), stdout %q", code, tc.code, stderr, tc.want, stdout)
			}
		})
	}
	for _, args := range [][]string{{"ping", "-h"}, {"ping", "--help"}, {"ping", "check", "-h"}, {"ping", "check", "--help"}} {
		code, stdout, stderr := cli(t, env, "", args...)
		if code != 0 || !strings.Contains(stdout, "Usage: pingauthz ping") || stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

// Without --login, ping check runs the provider checks of each flavor and
// exits 0 when they pass, 1 when one fails.
func TestPingCheckProvider(t *testing.T) {
	for _, flavor := range []pingemu.Flavor{pingemu.PingOne, pingemu.PingOneCustomDomain, pingemu.PingFederate} {
		t.Run(string(flavor), func(t *testing.T) {
			idp := checkEmulator(t, flavor, pingemu.AuthPost, pingemu.PKCEOptional)
			code, stdout, stderr := cli(t, checkEnv(idp), "", "ping", "check", "--json")
			var r pingcheck.Report
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatalf("%v\n%s\n%s", err, stdout, stderr)
			}
			if code != 0 || !r.OK || len(r.Checks) != 7 || r.Provider.Issuer != idp.Issuer() ||
				r.Provider.TokenAuthMethod != pingemu.AuthPost || len(r.Provider.Keys) != 1 || r.Login != nil {
				t.Errorf("exit %d, report %+v", code, r)
			}
			code, stdout, _ = cli(t, checkEnv(idp, config.VarName("token_endpoint_auth_method", false)+"=client_secret_basic"), "", "ping", "check")
			if code != 1 || !strings.Contains(stdout, "FAIL  token_auth_method") || !strings.Contains(stdout, "FAIL  client_credentials") {
				t.Errorf("basic against a post-only client: exit %d\n%s", code, stdout)
			}
		})
	}
}
