package e2e_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/flood"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/procfs"
)

// floodPairs is the number of begin/error pairs the flooding client sends.
const floodPairs = 200_000

// maxFloodRSS bounds the resident memory of the server and of the plugin at
// the end of a flood.
const maxFloodRSS = 80 << 20

// Loopback addresses of the flooding client and of the real user; the
// server tells clients apart by address.
const (
	attackerIP = "127.0.0.2"
	userIP     = "127.0.0.3"
)

// floodServer is a `pingauthz serve` process under attack, with one real
// user, rita, who must keep logging in.
type floodServer struct {
	base, issuer string
	server       *process
	plugin       int
}

// startFloodServer runs the built server on a fresh database with company
// c1 as the default company, with extra serve flags.
func startFloodServer(t *testing.T, flags ...string) *floodServer {
	t.Helper()
	if testing.Short() {
		t.Skip("a flood of 200,000 requests; skipped in -short mode")
	}
	cli := buildCLI(t)
	idp, err := pingemu.Start(pingemu.Options{Users: []pingemu.User{{
		Username: "rita", Password: "rita-pw",
		Claims: map[string]any{"email": "rita@example.com", "email_verified": true, "name": "Rita"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Close() })
	dir := t.TempDir()
	db := filepath.Join(dir, "pingauthz.db")
	if out, err := exec.Command(cli, "admin", "--db", db, "company", "add", "c1", "--name", "Flood Co").CombinedOutput(); err != nil {
		t.Fatalf("admin: %v\n%s", err, out)
	}
	const clientID, secret = "flood", "flood-secret-0123456789abcdef0123"
	env := append(config.RequiredEnv(idp.AuthorizeURL(), idp.TokenURL(), clientID, secret),
		config.VarName("code_challenge", false)+"=true",
		config.VarName("default_company", true)+"=c1")
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--db", db, "--log-level", "warn"}, flags...)
	p := startCLI(t, dir, cli, env, args...)
	base := p.waitLine(t, servingLine, time.Minute)[1]
	if err := idp.AddClient(pingemu.Client{ID: clientID, Secret: secret, RedirectURIs: []string{base + host.CallbackPath}}); err != nil {
		t.Fatal(err)
	}
	plugins, err := procfs.ChildPIDs(p.cmd.Process.Pid, "pingauthz-plugin")
	if err != nil || len(plugins) != 1 {
		t.Fatalf("plugin processes of the server: %v, %v", plugins, err)
	}
	return &floodServer{base: base, issuer: idp.Issuer(), server: p, plugin: plugins[0]}
}

// rss returns the resident memory of the server and of its plugin in bytes.
func (f *floodServer) rss(t *testing.T) (server, plugin int64) {
	t.Helper()
	var err1, err2 error
	server, err1 = procfs.VmRSS(f.server.cmd.Process.Pid)
	plugin, err2 = procfs.VmRSS(f.plugin)
	if err1 != nil || err2 != nil {
		t.Fatalf("resident memory: %v, %v", err1, err2)
	}
	return server << 10, plugin << 10 // kB to bytes
}

// attack floods the server from attackerIP while rita logs in from userIP
// every fifth of a second (ten requests a second); every one of her logins
// must end on a session.
// It logs the figures, checks the memory bound and returns the answers the
// flooding client got.
func (f *floodServer) attack(t *testing.T) map[string]int64 {
	t.Helper()
	s0, p0 := f.rss(t)
	ctx := context.Background()
	done := make(chan struct{})
	var res *flood.Result
	go func() {
		defer close(done)
		res = flood.Run(ctx, flood.Client(attackerIP, 4), f.base, f.issuer, floodPairs, 4)
	}()
	took, err := flood.Logins(ctx, flood.Client(userIP, 2).Transport, f.base, "rita", "rita-pw", 200*time.Millisecond, done)
	if err != nil {
		t.Errorf("a real login during the flood failed: %v", err)
	}
	<-done
	server, plugin := f.rss(t)
	t.Logf("flood: %d pairs in %s (%.0f pairs/s), answers %v", res.Pairs, res.Elapsed.Round(time.Millisecond),
		float64(res.Pairs)/res.Elapsed.Seconds(), res.Answers)
	if len(took) > 0 {
		slices.Sort(took)
		t.Logf("real logins during the flood: %d, p50 %s, max %s", len(took),
			took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	}
	t.Logf("resident memory: server %d -> %d MiB, plugin %d -> %d MiB (bound %d MiB each)",
		s0>>20, server>>20, p0>>20, plugin>>20, maxFloodRSS>>20)
	if server > maxFloodRSS || plugin > maxFloodRSS {
		t.Errorf("resident memory after the flood: server %d MiB, plugin %d MiB; want at most %d MiB each",
			server>>20, plugin>>20, maxFloodRSS>>20)
	}
	if res.Pairs != floodPairs {
		t.Errorf("%d pairs sent, want %d", res.Pairs, floodPairs)
	}
	return res.Answers
}

// TestFloodDoesNotLockOut floods the server from one client with begun
// logins answered by a provider error, as an attacker with a terminal can.
// With the rate limits off, every pair is refused with 400, no login state
// is spent and nothing fills up: a real login from another client keeps
// working throughout, and memory stays bounded.
func TestFloodDoesNotLockOut(t *testing.T) {
	answers := startFloodServer(t).attack(t)
	if n := answers["begin 302, callback 400"]; n != floodPairs || len(answers) != 1 {
		t.Errorf("answers %v, want all %d pairs begun and refused with 400", answers, floodPairs)
	}
}

// TestFloodWithRateLimits runs the same flood with per-client rate limits
// on: the flooding client gets 429s, and the real user, from another
// address and at a human pace, logs in throughout.
func TestFloodWithRateLimits(t *testing.T) {
	answers := startFloodServer(t, "--rate-limit", "20/s,burst=20").attack(t)
	limited := answers["begin 429"] + answers["begin 302, callback 429"]
	if limited < floodPairs*9/10 {
		t.Errorf("answers %v: %d pairs rate-limited, want at least 90%% of %d", answers, limited, floodPairs)
	}
	for a := range answers {
		if a != "begin 429" && a != "begin 302, callback 429" && a != "begin 302, callback 400" {
			t.Errorf("unexpected answer %q (%d times)", a, answers[a])
		}
	}
}
