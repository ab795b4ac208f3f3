package e2e_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/procfs"
	"github.com/pingauthz/pingauthz/internal/store/storetest"
	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/sso"
)

// startDemo runs the demo on loopback ports with the prebuilt plugin.
func startDemo(tb testing.TB, opts demo.Options) *demo.Demo {
	tb.Helper()
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.PluginPath == "" {
		opts.PluginPath = pluginBinary
	}
	if opts.Logger == nil {
		opts.Logger, _ = testutil.Logger(tb, "server")
	}
	if opts.Dir == "" {
		opts.Dir = tb.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := demo.Start(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := d.Close(); err != nil {
			tb.Errorf("closing the demo: %v", err)
		}
	})
	return d
}

// browser is an HTTP client with its own cookie jar that does not follow
// redirects, so every step of a login can be checked.
type browser struct {
	tb testing.TB
	hc *http.Client
	d  *demo.Demo
}

func newBrowser(tb testing.TB, d *demo.Demo) *browser {
	return &browser{tb: tb, d: d, hc: demo.NewBrowserClient(http.DefaultTransport)}
}

// page is a response with its body read.
type page struct {
	status   int
	location string
	body     string
}

func (b *browser) get(rawURL string) (*page, error) {
	resp, err := b.hc.Get(rawURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body)}, nil
}

// begin starts a login at the server and returns the authorize URL.
func (b *browser) begin(returnTo string) (string, error) {
	u := b.d.URL + "/login/ping"
	if returnTo != "" {
		u += "?return_to=" + url.QueryEscape(returnTo)
	}
	p, err := b.get(u)
	if err != nil {
		return "", err
	}
	if p.status != http.StatusFound || p.location == "" {
		return "", fmt.Errorf("GET /login/ping: status %d, location %q: %s", p.status, p.location, p.body)
	}
	return p.location, nil
}

// signIn fills the emulator's login form and returns the callback URL.
func (b *browser) signIn(authURL, username string) (string, error) {
	u, ok := demo.FindUser(b.d.Users, username)
	if !ok {
		return "", fmt.Errorf("no demo user %q", username)
	}
	cb, err := pingemu.Login(context.Background(), b.hc, authURL, u.Username, u.Password)
	if err != nil {
		return "", err
	}
	return cb.String(), nil
}

// login runs a whole login and returns the callback's response.
func (b *browser) login(username, returnTo string) (*page, error) {
	authURL, err := b.begin(returnTo)
	if err != nil {
		return nil, err
	}
	cb, err := b.signIn(authURL, username)
	if err != nil {
		return nil, err
	}
	return b.get(cb)
}

// mustLogin logs in and fails unless the login ends on a session.
func (b *browser) mustLogin(username string) *sso.Account {
	b.tb.Helper()
	p, err := b.login(username, "")
	if err != nil {
		b.tb.Fatalf("login %s: %v", username, err)
	}
	if p.status != http.StatusSeeOther || p.location != "/" {
		b.tb.Fatalf("login %s: callback status %d location %q, want 303 to /:\n%s", username, p.status, p.location, p.body)
	}
	a, err := b.me()
	if err != nil {
		b.tb.Fatalf("login %s: %v", username, err)
	}
	return a
}

// me returns the session's account from /api/me.
func (b *browser) me() (*sso.Account, error) {
	p, err := b.get(b.d.URL + "/api/me")
	if err != nil {
		return nil, err
	}
	if p.status != http.StatusOK {
		return nil, fmt.Errorf("GET /api/me: status %d: %s", p.status, p.body)
	}
	var a sso.Account
	if err := json.Unmarshal([]byte(p.body), &a); err != nil {
		return nil, fmt.Errorf("GET /api/me: %w", err)
	}
	return &a, nil
}

// engines runs f once per directory engine: on SQLite (db "", the demo's
// file) and on a fresh PostgreSQL schema (db its URL), which is skipped or
// fails as storetest.NeedPostgres says.
func engines(t *testing.T, f func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, "") })
	t.Run("postgres", func(t *testing.T) { f(t, storetest.PostgresURL(t)) })
}

// dump returns every row of every table of the directory (a SQLite file
// or a PostgreSQL URL), so that two dumps show whether anything changed.
func dump(tb testing.TB, path string) map[string][]string {
	tb.Helper()
	driver, dsn := "sqlite", "file:"+filepath.ToSlash(path)+"?mode=ro"
	tablesQuery := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://") {
		driver, dsn = "pgx", path
		tablesQuery = `SELECT table_name FROM information_schema.tables
WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(tablesQuery)
	if err != nil {
		tb.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			tb.Fatal(err)
		}
		tables = append(tables, n)
	}
	if err := rows.Close(); err != nil {
		tb.Fatal(err)
	}
	if len(tables) == 0 {
		tb.Fatalf("database %s has no tables", redactURL(path))
	}
	out := make(map[string][]string, len(tables))
	for _, t := range tables {
		r, err := db.Query(`SELECT * FROM "` + t + `"`)
		if err != nil {
			tb.Fatal(err)
		}
		cols, _ := r.Columns()
		var lines []string
		for r.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := r.Scan(ptrs...); err != nil {
				tb.Fatal(err)
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				parts[i] = fmt.Sprintf("%s=%v", cols[i], v)
			}
			lines = append(lines, strings.Join(parts, " "))
		}
		if err := r.Close(); err != nil {
			tb.Fatal(err)
		}
		slices.Sort(lines)
		out[t] = lines
	}
	return out
}

// sameDump fails when two dumps differ, naming the tables.
func sameDump(tb testing.TB, before, after map[string][]string) {
	tb.Helper()
	for t, rows := range after {
		if !slices.Equal(before[t], rows) {
			tb.Errorf("table %s changed:\nbefore %q\nafter  %q", t, before[t], rows)
		}
	}
	for t := range before {
		if _, ok := after[t]; !ok {
			tb.Errorf("table %s disappeared", t)
		}
	}
}

// killPlugin kills the demo's supervised plugin process behind the
// supervisor's back and waits until the process is gone (dead or reaped).
func killPlugin(tb testing.TB, d *demo.Demo) {
	tb.Helper()
	pid := d.Server.Plugin.PID()
	if pid <= 0 { // never signal 0: that is this test's process group
		tb.Fatalf("the demo's plugin is not running (PID %d)", pid)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for procfs.Alive(pid) {
		if time.Now().After(deadline) {
			tb.Fatalf("plugin %d still running a minute after SIGKILL", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// retry calls f until it succeeds or the timeout passes.
func retry(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mustBegin is begin that fails the test on error.
func (b *browser) mustBegin(returnTo string) string {
	b.tb.Helper()
	u, err := b.begin(returnTo)
	if err != nil {
		b.tb.Fatal(err)
	}
	return u
}

// mustSignIn is signIn that fails the test on error.
func (b *browser) mustSignIn(authURL, username string) string {
	b.tb.Helper()
	u, err := b.signIn(authURL, username)
	if err != nil {
		b.tb.Fatal(err)
	}
	return u
}

// mustGet is get that fails the test on error.
func (b *browser) mustGet(rawURL string) *page {
	b.tb.Helper()
	p, err := b.get(rawURL)
	if err != nil {
		b.tb.Fatal(err)
	}
	return p
}

// callbackWith requests the callback with query q and the state of the
// login authURL began, as a forged or failed provider redirect would.
func (b *browser) callbackWith(authURL, q string) *page {
	b.tb.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		b.tb.Fatal(err)
	}
	return b.mustGet(b.d.URL + host.CallbackPath + "?" + q + "&state=" +
		url.QueryEscape(u.Query().Get("state")) + "&iss=" + url.QueryEscape(b.d.IdP.Issuer()))
}

// redactURL drops a URL's password; a path is returned as it is.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}
