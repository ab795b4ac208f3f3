package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/decisionlog/dltest"
	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/metrics"
	"github.com/pingauthz/pingauthz/internal/metrics/metricstest"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/server"
	"github.com/pingauthz/pingauthz/internal/testutil"
)

// logWaiter is a log sink that tells a test when a line holding a text is
// written.
type logWaiter struct {
	buf testutil.SyncBuffer

	mu    sync.Mutex
	waits map[string]chan struct{}
}

func (w *logWaiter) Write(p []byte) (int, error) {
	w.mu.Lock()
	for text, ch := range w.waits {
		if bytes.Contains(p, []byte(text)) {
			close(ch)
			delete(w.waits, text)
		}
	}
	w.mu.Unlock()
	return w.buf.Write(p)
}

// expect returns a channel closed by the next line holding text.
func (w *logWaiter) expect(text string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waits == nil {
		w.waits = map[string]chan struct{}{}
	}
	ch := make(chan struct{})
	w.waits[text] = ch
	return ch
}

// await waits for ch, failing the test after a minute.
func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("waited a minute for %s", what)
	}
}

// loginServer is a reference server serving on loopback against a Ping
// emulator with the demo's configuration and directory, and metrics on a
// listener of their own when asked for.
type loginServer struct {
	srv        *server.Server
	base       string
	metricsURL string
	users      []pingemu.User
	logs       *logWaiter
	// transport is shared by the clients of login.
	transport *http.Transport
}

// blockPolicy is an operator's extension that denies dave with the code
// deny:blocked_vN.
const blockPolicy = `package clearml.sso.extend

deny contains {"code": "deny:blocked_v%d", "message": "Dave may not sign in."} if input.identity.email == "dave@example.com"
`

// startLoginServer starts a server whose emulator has the demo's users,
// dave, and members more in the team group (member00, ...); env is added
// to the plugin's environment.
func startLoginServer(tb testing.TB, members int, withMetrics bool, env ...string) *loginServer {
	tb.Helper()
	ctx := context.Background()
	ls := &loginServer{users: demo.DefaultUsers(), logs: &logWaiter{}, transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	tb.Cleanup(func() {
		ls.transport.CloseIdleConnections()
		if tb.Failed() {
			tb.Logf("server log:\n%s", ls.logs.buf.String())
		}
	})
	ls.users = append(ls.users, pingemu.User{Username: "dave", Password: "dave-pw", Groups: []string{demo.TeamGroup},
		Claims: map[string]any{"email": "dave@example.com", "email_verified": true, "name": "Dave"}})
	for i := range members {
		name := fmt.Sprintf("member%02d", i)
		ls.users = append(ls.users, pingemu.User{Username: name, Password: name + "-pw", Groups: []string{demo.TeamGroup},
			Claims: map[string]any{"email": name + "@example.com", "email_verified": true, "name": "Member " + name}})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ls.base = "http://" + ln.Addr().String()
	const secret = "metrics-test-secret-0123456789"
	idp, err := pingemu.Start(pingemu.Options{Users: ls.users, Clients: []pingemu.Client{{
		ID: demo.ClientID, Secret: secret, RedirectURIs: []string{ls.base + host.CallbackPath}, PKCE: pingemu.PKCES256Required,
	}}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = idp.Close() })
	logger := hclog.New(&hclog.LoggerOptions{Name: "server", Output: ls.logs, Level: hclog.Debug})
	cfg := server.Config{
		DBPath: filepath.Join(tb.TempDir(), "pingauthz.db"), PluginPath: pluginBinary,
		PluginEnv: append(demo.Env(idp, secret), env...), SkipHostEnv: true,
		PublicURL: ls.base, Logger: logger, DirectoryPoll: -1,
	}
	if withMetrics {
		cfg.Metrics = metrics.New(metrics.Options{Logger: logger})
	}
	if ls.srv, err = server.Open(ctx, cfg); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ls.srv.Close() })
	if err := demo.Seed(ctx, ls.srv); err != nil {
		tb.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 2)
	serving := 1
	go func() { errc <- ls.srv.Serve(sctx, ln) }()
	if withMetrics {
		mln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		ls.metricsURL = "http://" + mln.Addr().String() + server.MetricsPath
		serving++
		go func() { errc <- ls.srv.ServeMetrics(sctx, mln) }()
	}
	tb.Cleanup(func() {
		cancel()
		for range serving {
			if err := <-errc; err != nil {
				tb.Errorf("serve: %v", err)
			}
		}
	})
	return ls
}

// writePolicy replaces block.rego in dir in one rename.
func writePolicy(t *testing.T, dir, src string) {
	t.Helper()
	tmp := filepath.Join(t.TempDir(), "block.rego")
	if err := os.WriteFile(tmp, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "block.rego")); err != nil {
		t.Fatal(err)
	}
}

// login signs username in as a new browser and checks the callback's
// status.
func (ls *loginServer) login(username string, status int) error {
	u, ok := demo.FindUser(ls.users, username)
	if !ok {
		return fmt.Errorf("no user %s", username)
	}
	r, err := demo.Login(context.Background(), demo.NewBrowserClient(ls.transport), ls.base, u.Username, u.Password)
	if err == nil && r.Status != status {
		err = fmt.Errorf("login of %s: status %d, want %d", username, r.Status, status)
	}
	return err
}

// mustLogin is login that fails the test on error.
func (ls *loginServer) mustLogin(t *testing.T, username string, status int) {
	t.Helper()
	if err := ls.login(username, status); err != nil {
		t.Fatal(err)
	}
}

// callback sends a callback with an optional login-state cookie.
func (ls *loginServer) callback(t *testing.T, cookie string) {
	t.Helper()
	req, err := http.NewRequest("GET", ls.base+host.CallbackPath+"?state=s&code=c", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "pingauthz_login", Value: cookie})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("callback with cookie %q: status %d, want 400", cookie, resp.StatusCode)
	}
}

func (ls *loginServer) scrape(t *testing.T) metricstest.Families {
	t.Helper()
	fams, err := metricstest.Scrape(context.Background(), ls.metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// check compares series values: name, labels as pairs, then the value.
func check(t *testing.T, fams metricstest.Families, want map[string]float64) {
	t.Helper()
	for key, v := range want {
		parts := strings.Split(key, " ")
		got, ok := fams.Value(parts[0], parts[1:]...)
		if !ok {
			t.Errorf("%s: no single series; have %v", key, fams.Find(parts[0]))
		} else if got != v {
			t.Errorf("%s = %v, want %v", key, got, v)
		}
	}
}

// TestMetricsOfRealLogins scrapes the metrics listener of a server with
// the real plugin after real logins: outcomes and reasons, phases and
// plugin calls, a cardinality that does not grow with distinct users, the
// decision log while its collector is down, a rejected and an accepted
// policy reload, directory changes and a plugin restart.
func TestMetricsOfRealLogins(t *testing.T) {
	const members = 12
	policyDir, collector := t.TempDir(), dltest.New(t)
	collector.SetMode(dltest.Unavailable)
	writePolicy(t, policyDir, fmt.Sprintf(blockPolicy, 1))
	ms := startLoginServer(t, members, true,
		config.VarName("policy__dir", false)+"="+policyDir,
		config.VarName("decision_log__url", false)+"="+collector.URL)
	ctx := context.Background()
	info, err := ms.srv.Plugin.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := info.PolicyRevision
	fams := ms.scrape(t)
	check(t, fams, map[string]float64{
		"pingauthz_plugin_up":                                     1,
		"pingauthz_plugin_restarts_total":                         0,
		"pingauthz_policy_info revision " + first:                 1,
		"pingauthz_policy_reload_failures_total":                  0,
		"pingauthz_directory_companies":                           1,
		"pingauthz_directory_groups":                              2,
		"pingauthz_directory_whitelist_entries kind domain":       0,
		"pingauthz_plugin_rpcs_total method SetDirectory code OK": 3, // the seed's company and two groups
		"pingauthz_decision_log_events_total":                     0,
	})
	if n := fams.Series("pingauthz_policy_info"); n != 1 {
		t.Errorf("%d policy_info series, want 1", n)
	}
	if _, ok := fams.Value("pingauthz_plugin_process_start_time_seconds"); !ok {
		t.Error("no process metrics of the plugin")
	}
	if n, _ := fams.Value("pingauthz_plugin_goroutines"); n < 1 {
		t.Errorf("pingauthz_plugin_goroutines = %v, want the plugin's count", n)
	}

	t.Run("logins by outcome and reason", func(t *testing.T) {
		ms.mustLogin(t, demo.Admin, http.StatusSeeOther)
		ms.mustLogin(t, demo.Member, http.StatusSeeOther)
		ms.mustLogin(t, demo.Outsider, http.StatusForbidden)
		ms.mustLogin(t, "dave", http.StatusForbidden)
		ms.mustLogin(t, demo.Admin, http.StatusSeeOther)
		ms.callback(t, "")
		ms.callback(t, "forged-login-state")
		fams := ms.scrape(t)
		if got := fams.Find("pingauthz_plugin_rpcs_total", "method", "Decide"); len(got) != 0 {
			t.Errorf("a login called the plugin's Decide; Complete should decide: %v", got)
		}
		check(t, fams, map[string]float64{
			"pingauthz_logins_total outcome allowed reason signup:default_company":  2,
			"pingauthz_logins_total outcome allowed reason login:existing_user":     1,
			"pingauthz_logins_total outcome denied reason deny:not_in_group":        1,
			"pingauthz_logins_total outcome denied reason deny:blocked_v1":          1,
			"pingauthz_logins_total outcome failed reason no_login_state":           1,
			"pingauthz_logins_total outcome failed reason invalid_state":            1,
			"pingauthz_login_decision_reasons_total reason role:admin_group":        2,
			"pingauthz_login_decision_reasons_total reason role:not_in_admin_group": 1,
			"pingauthz_login_decision_reasons_total reason groups:synced":           3,
			"pingauthz_login_decision_reasons_total reason deny:not_in_group":       1,
			"pingauthz_login_phase_duration_seconds phase begin":                    5,
			"pingauthz_login_phase_duration_seconds phase exchange":                 6,
			"pingauthz_login_phase_duration_seconds phase lookup":                   5,
			"pingauthz_login_phase_duration_seconds phase decide":                   5,
			"pingauthz_login_phase_duration_seconds phase apply":                    3,
			"pingauthz_plugin_rpcs_total method Begin code OK":                      5,
			"pingauthz_plugin_rpcs_total method Complete code OK":                   5,
			"pingauthz_plugin_rpcs_total method Complete code FailedPrecondition":   1,
			"pingauthz_decision_log_events_total":                                   5,
		})
	})

	t.Run("cardinality does not grow with users", func(t *testing.T) {
		before := ms.scrape(t)
		for i := range members {
			ms.mustLogin(t, fmt.Sprintf("member%02d", i), http.StatusSeeOther)
		}
		after := ms.scrape(t)
		check(t, after, map[string]float64{
			"pingauthz_logins_total outcome allowed reason signup:default_company": 2 + members,
			"pingauthz_login_phase_duration_seconds phase apply":                   3 + members,
		})
		if b, a := before.Series("pingauthz_"), after.Series("pingauthz_"); a != b {
			t.Errorf("%d series after %d more users, %d before", a, members, b)
		}
		for _, v := range after.LabelValues() {
			for _, u := range ms.users {
				if strings.Contains(v, "@") || strings.Contains(v, u.Username) || strings.Contains(v, pingemu.DefaultSubject(u.Username)) {
					t.Errorf("label value %q names a user", v)
				}
			}
		}
	})

	t.Run("decision log with its collector down", func(t *testing.T) {
		// Uploads are retried one after another, so a second refusal
		// means the first was counted.
		collector.Wait(t, 2*time.Minute, "two refused uploads", func(_ []dltest.Event, refused int) bool { return refused >= 2 })
		fams := ms.scrape(t)
		check(t, fams, map[string]float64{
			"pingauthz_decision_log_events_total":            5 + members,
			"pingauthz_decision_log_dropped_events_total":    0,
			"pingauthz_decision_log_uploads_total result ok": 0,
		})
		if v, _ := fams.Value("pingauthz_decision_log_uploads_total", "result", "failed"); v < 1 {
			t.Errorf("failed uploads %v, want at least 1", v)
		}
		// The buffer is not checked here: an upload in flight holds its
		// events outside it. TestWatchPlugin checks that it is reported.
		if _, ok := fams.Value("pingauthz_decision_log_buffered_events"); !ok {
			t.Error("no decision_log_buffered_events")
		}
	})

	var second string
	t.Run("policy reload", func(t *testing.T) {
		rejected := ms.logs.expect("policy set rejected")
		writePolicy(t, policyDir, "package clearml.sso.extend\n\ndeny contains {\n")
		await(t, rejected, "the broken policy set to be rejected")
		fams := ms.scrape(t)
		check(t, fams, map[string]float64{
			"pingauthz_policy_reload_failures_total":  1,
			"pingauthz_policy_reload_failing":         1,
			"pingauthz_policy_reloads_total":          0,
			"pingauthz_policy_info revision " + first: 1,
		})
		activated := ms.logs.expect("policy set activated")
		writePolicy(t, policyDir, fmt.Sprintf(blockPolicy, 2))
		await(t, activated, "the fixed policy set to be activated")
		info, err := ms.srv.Plugin.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		second = info.PolicyRevision
		if second == first {
			t.Fatalf("revision %s unchanged by the reload", second)
		}
		fams = ms.scrape(t)
		check(t, fams, map[string]float64{
			"pingauthz_policy_reload_failures_total":   1,
			"pingauthz_policy_reload_failing":          0,
			"pingauthz_policy_reloads_total":           1,
			"pingauthz_policy_info revision " + second: 1,
		})
		if n := fams.Series("pingauthz_policy_info"); n != 1 {
			t.Errorf("%d policy_info series, want only the active one", n)
		}
		// The operator's new code counts under its own name.
		ms.mustLogin(t, "dave", http.StatusForbidden)
		check(t, ms.scrape(t), map[string]float64{
			"pingauthz_logins_total outcome denied reason deny:blocked_v1": 1,
			"pingauthz_logins_total outcome denied reason deny:blocked_v2": 1,
		})
	})

	t.Run("directory size", func(t *testing.T) {
		if err := ms.srv.Store.AddGroup(ctx, demo.CompanyID, "Ops"); err != nil {
			t.Fatal(err)
		}
		if err := ms.srv.Store.AddCompany(ctx, "c2", "Two"); err != nil {
			t.Fatal(err)
		}
		if err := ms.srv.Store.WhitelistAdd(ctx, "c2", "@example.org", false); err != nil {
			t.Fatal(err)
		}
		if err := ms.srv.Store.WhitelistAdd(ctx, "c2", "lee@example.net", true); err != nil {
			t.Fatal(err)
		}
		check(t, ms.scrape(t), map[string]float64{
			"pingauthz_directory_companies":                     2,
			"pingauthz_directory_groups":                        3,
			"pingauthz_directory_whitelist_entries kind domain": 1,
			"pingauthz_directory_whitelist_entries kind email":  1,
		})
	})

	t.Run("plugin restart", func(t *testing.T) {
		pid := ms.srv.Plugin.PID()
		if pid <= 0 {
			t.Fatal("no plugin process")
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		ms.mustLogin(t, demo.Member, http.StatusSeeOther)
		fams := ms.scrape(t)
		check(t, fams, map[string]float64{
			"pingauthz_plugin_restarts_total": 1,
			"pingauthz_plugin_up":             1,
			"pingauthz_logins_total outcome allowed reason login:existing_user": 2,
			// The new plugin process counts from zero and runs the same set.
			"pingauthz_policy_reload_failures_total":   0,
			"pingauthz_policy_info revision " + second: 1,
		})
		if ms.srv.Plugin.PID() == pid {
			t.Error("the plugin was not restarted")
		}
	})
}
