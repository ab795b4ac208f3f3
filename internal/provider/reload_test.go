package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/testutil"
)

// denyPolicy is a whole decision.rego that denies with one reason code,
// which names the version and the number of companies in the directory.
func denyPolicy(version string) string {
	return fmt.Sprintf(`package clearml.sso

decision := {
	"allow": false, "signup": false, "company": "", "role": null,
	"sync_groups": false, "groups": [],
	"reasons": [sprintf("deny:%s_companies_%%d", [count(data.clearml.directory.companies)])],
	"message": "",
}
`, version)
}

// configMap is a policy directory laid out as a Kubernetes ConfigMap
// volume: files are symlinks into ..data, which points at a timestamped
// directory; an update swaps ..data.
type configMap struct {
	t   *testing.T
	dir string
	n   int
}

func newConfigMap(t *testing.T, files map[string]string) *configMap {
	c := &configMap{t: t, dir: t.TempDir()}
	c.update(files)
	for name := range files {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(c.dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// update writes files into a new timestamped directory and swaps ..data.
func (c *configMap) update(files map[string]string) {
	c.n++
	ts := fmt.Sprintf("..2030_01_01_00_00_%02d.%d", c.n, c.n)
	if err := os.Mkdir(filepath.Join(c.dir, ts), 0o755); err != nil {
		c.t.Fatal(err)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(c.dir, ts, name), []byte(src), 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
	tmp := filepath.Join(c.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		c.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, "..data")); err != nil {
		c.t.Fatal(err)
	}
}

// reloader drives the debounce of a Provider's policy watch: the test
// fires the quiet-period timers and waits for each reload's outcome.
type reloader struct {
	timers  chan chan time.Time
	results chan error
}

func newReloader() *reloader {
	return &reloader{timers: make(chan chan time.Time, 1000), results: make(chan error, 100)}
}

func (r *reloader) options(o *Options) {
	o.ReloadAfter = func(time.Duration) <-chan time.Time {
		c := make(chan time.Time, 1)
		r.timers <- c
		return c
	}
	o.OnReload = func(err error) { r.results <- err }
}

// reload ends the burst of file events and returns the outcome of the
// reload that follows it. Reloads of an unchanged set
// (ErrPolicyUnchanged), such as one that ran before the update's last
// event, are skipped.
func (r *reloader) reload(t *testing.T) error {
	t.Helper()
	const wait = 60 * time.Second
	var current chan time.Time
	fired := false
	for {
		if !fired && current != nil {
			for len(r.timers) > 0 {
				current = <-r.timers
			}
			current <- time.Now()
			fired = true
		}
		select {
		case err := <-r.results:
			if !errors.Is(err, ErrPolicyUnchanged) {
				return err
			}
		case current = <-r.timers:
			fired = false
		case <-time.After(wait):
			t.Fatal("no reload")
		}
	}
}

func newReloadingProvider(t *testing.T, dir string, r *reloader, edit func(*config.Config)) *Provider {
	t.Helper()
	cfg := config.Default()
	cfg.AuthorizeURL, cfg.AccessTokenURL = "http://127.0.0.1:1/env/as/authorize", "http://127.0.0.1:1/env/as/token"
	cfg.ClientID, cfg.ClientSecret = clientID, clientSecret
	cfg.PolicyDir = dir
	if edit != nil {
		edit(&cfg)
	}
	logger, _ := testutil.Logger(t, "provider")
	o := Options{Logger: logger}
	r.options(&o)
	p, err := New(context.Background(), &cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	if err := p.SetDirectory(context.Background(), directory()); err != nil {
		t.Fatal(err)
	}
	return p
}

// A ConfigMap update of the policy is swapped in during a stream of
// logins: each decision comes from the old set or the new one, never an
// error, and the new set consults the directory. A broken update is
// rejected with its file and line, and the last good set stays active.
func TestReloadDuringLogins(t *testing.T) {
	cm := newConfigMap(t, map[string]string{"decision.rego": denyPolicy("v1")})
	r := newReloader()
	p := newReloadingProvider(t, cm.dir, r, nil)
	in := &sso.Input{Identity: sso.Identity{Issuer: "https://issuer.example", Subject: "s", UserID: "s", Email: "a@example.com"}}
	first, _ := p.Info(context.Background())

	stop := make(chan struct{})
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seenV2 := false
			for n := 0; ; n++ {
				select {
				case <-stop:
					if n == 0 {
						errs <- fmt.Errorf("worker %d made no decision", w)
					}
					return
				default:
				}
				d, err := p.Decide(context.Background(), in)
				if err != nil {
					errs <- err
					return
				}
				switch reason := d.Reasons[0]; reason {
				case "deny:v1_companies_1":
					if seenV2 {
						errs <- errors.New("a decision from the old set after one from the new")
						return
					}
				case "deny:v2_companies_1":
					seenV2 = true
				default:
					errs <- fmt.Errorf("decision %v from neither set", d.Reasons)
					return
				}
			}
		}()
	}

	cm.update(map[string]string{"decision.rego": denyPolicy("v2")})
	if err := r.reload(t); err != nil {
		t.Fatalf("reload: %v", err)
	}
	// From now on every decision comes from the new set.
	d, err := p.Decide(context.Background(), in)
	if err != nil || d.Reasons[0] != "deny:v2_companies_1" {
		t.Fatalf("after the reload: %v, %v", d, err)
	}
	second, _ := p.Info(context.Background())
	if second.PolicyRevision == first.PolicyRevision || second.Stats.PolicyReloads != 1 {
		t.Errorf("Info after the reload: revision %s (was %s), stats %+v", second.PolicyRevision, first.PolicyRevision, second.Stats)
	}

	cm.update(map[string]string{"decision.rego": "package clearml.sso\n\ndecision := {\n"})
	err = r.reload(t)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(cm.dir, "decision.rego")+":") {
		t.Fatalf("broken set: %v, want an error naming the file and line", err)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	d, err = p.Decide(context.Background(), in)
	if err != nil || d.Reasons[0] != "deny:v2_companies_1" {
		t.Fatalf("after the broken update: %v, %v; want the last good set", d, err)
	}
	third, _ := p.Info(context.Background())
	if third.PolicyRevision != second.PolicyRevision || third.Stats.PolicyReloadFailures != 1 ||
		!strings.Contains(third.Stats.PolicyLastError, "decision.rego:") {
		t.Errorf("Info after the broken update: %+v", third)
	}

	// Fixing the set activates it and clears the error.
	cm.update(map[string]string{"decision.rego": denyPolicy("v3")})
	if err := r.reload(t); err != nil {
		t.Fatal(err)
	}
	if d, _ := p.Decide(context.Background(), in); d.Reasons[0] != "deny:v3_companies_1" {
		t.Errorf("after the fix: %v", d.Reasons)
	}
	if info, _ := p.Info(context.Background()); info.Stats.PolicyLastError != "" || info.Stats.PolicyReloads != 2 {
		t.Errorf("stats after the fix: %+v", info.Stats)
	}
}

// A policy file added to the directory later is read by the next reload.
func TestReloadFileAddedLater(t *testing.T) {
	dir := t.TempDir()
	r := newReloader()
	p := newReloadingProvider(t, dir, r, nil)
	in := &sso.Input{Identity: sso.Identity{Subject: "s", UserID: "s", Email: "a@example.com"}}
	if d, _ := p.Decide(context.Background(), in); d.Reasons[0] == "deny:v1_companies_1" {
		t.Fatal("the override applies before it exists")
	}
	tmp := filepath.Join(dir, ".decision.rego.tmp")
	if err := os.WriteFile(tmp, []byte(denyPolicy("v1")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "decision.rego")); err != nil {
		t.Fatal(err)
	}
	if err := r.reload(t); err != nil {
		t.Fatal(err)
	}
	if d, _ := p.Decide(context.Background(), in); d.Reasons[0] != "deny:v1_companies_1" {
		t.Errorf("decision %v after adding the override", d.Reasons)
	}
}
