package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/metrics/metricstest"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/testutil"
)

func TestServeMetricsListenUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	for _, addr := range []string{"9090", "localhost"} {
		code, _, stderr := cli(t, baseEnv, "", "serve", "--db", db, "--metrics-listen", addr)
		if code != 2 || !strings.Contains(stderr, "--metrics-listen") {
			t.Errorf("--metrics-listen %s: exit %d (want 2), stderr %q", addr, code, stderr)
		}
	}
	code, stdout, _ := cli(t, baseEnv, "", "serve", "-h")
	if code != 0 || !strings.Contains(stdout, "-metrics-listen") {
		t.Errorf("serve -h does not list --metrics-listen: %q", stdout)
	}
}

var (
	servingRE = regexp.MustCompile(`serving (http://127\.0\.0\.1:\d+) on`)
	metricsRE = regexp.MustCompile(`metrics on (http://127\.0\.0\.1:\d+/metrics)`)
)

// TestServeMetricsListen runs serve with --metrics-listen and the real
// plugin: the metrics listener counts a denied login under its reason,
// serves the Go runtime metrics, and stops with the server.
func TestServeMetricsListen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the plugin")
	}
	ctx := context.Background()
	dir := t.TempDir()
	plugin, err := demo.BuildPlugin(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	idp, err := pingemu.Start(pingemu.Options{Users: []pingemu.User{{Username: "dana", Password: "dana-pw",
		Claims: map[string]any{"email": "dana@example.com", "email_verified": true, "name": "Dana"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer idp.Close()
	const secret = "serve-metrics-secret-0123456789"
	// c1 does not exist: dana's sign-up is denied with deny:unknown_company.
	env := append(config.RequiredEnv(idp.AuthorizeURL(), idp.TokenURL(), "serve-metrics", secret),
		config.VarName("default_company", true)+"=c1")

	pr, pw := io.Pipe()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	stderr := &testutil.SyncBuffer{}
	exit := make(chan int, 1)
	go func() {
		exit <- run(sctx, []string{"serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
			"--db", filepath.Join(dir, "x.db"), "--plugin", plugin, "--log-level", "warn"}, env, strings.NewReader(""), pw, stderr)
		pw.Close()
	}()
	var base, metricsURL string
	for base == "" || metricsURL == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("serve ended (exit %d):\n%s", <-exit, stderr.String())
			}
			if m := servingRE.FindStringSubmatch(line); m != nil {
				base = m[1]
			}
			if m := metricsRE.FindStringSubmatch(line); m != nil {
				metricsURL = m[1]
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("serve printed no serving and metrics lines:\n%s", stderr.String())
		}
	}
	if err := idp.AddClient(pingemu.Client{ID: "serve-metrics", Secret: secret, RedirectURIs: []string{base + host.CallbackPath}}); err != nil {
		t.Fatal(err)
	}
	r, err := demo.Login(ctx, demo.NewBrowserClient(nil), base, "dana", "dana-pw")
	if err != nil || r.Status != http.StatusForbidden {
		t.Fatalf("login: %+v, %v; want a 403", r, err)
	}
	fams, err := metricstest.Scrape(ctx, metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := fams.Value("pingauthz_logins_total", "outcome", "denied", "reason", "deny:unknown_company"); !ok || v != 1 {
		t.Errorf("denied logins under deny:unknown_company: %v (found %v), want 1", v, ok)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "pingauthz_plugin_up"} {
		if _, ok := fams.Value(name); !ok {
			t.Errorf("no %s", name)
		}
	}
	if resp, err := http.Get(strings.TrimSuffix(metricsURL, "/metrics") + "/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET / on the metrics listener: status %d, want 404", resp.StatusCode)
		}
	}
	stop()
	select {
	case code := <-exit:
		if code != 0 {
			t.Errorf("exit %d after the context ended:\n%s", code, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop")
	}
	for range lines { // drain to the end
	}
	if _, err := http.Get(metricsURL); err == nil {
		t.Error("the metrics listener still answers after serve stopped")
	}
}
