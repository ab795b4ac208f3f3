package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/decisionlog/dltest"
	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/metrics/metricstest"
	"github.com/pingauthz/pingauthz/internal/pingemu"
)

// soakFigures are the figures sampled from the server's metrics.
var soakFigures = []struct{ name, metric string }{
	{"server goroutines", "go_goroutines"},
	{"server FDs", "process_open_fds"},
	{"server RSS MB", "process_resident_memory_bytes"},
	{"server heap MB", "go_memstats_heap_inuse_bytes"},
	{"plugin goroutines", "pingauthz_plugin_goroutines"},
	{"plugin FDs", "pingauthz_plugin_process_open_fds"},
	{"plugin RSS MB", "pingauthz_plugin_process_resident_memory_bytes"},
}

// soak logs users in at concurrency for dur while, every `every`, the
// extension in policy__dir is rewritten (every third set does not compile,
// so the last good one must stay) and the decision-log collector goes down
// or comes back. Each tick it prints the server's and the plugin's
// goroutines, file descriptors and memory; at the end it prints the
// change from the first tick after warm-up to the last, and what the
// collector got.
func (b *bench) soak(dur, every time.Duration, concurrency, repeat int) error {
	col := dltest.Start()
	defer col.Close()
	policyDir := filepath.Join(b.dir, "policy")
	if err := os.MkdirAll(policyDir, 0o755); err != nil {
		return err
	}
	if err := writeExtension(policyDir, 0); err != nil {
		return err
	}
	metricsAddr, err := freeAddr()
	if err != nil {
		return err
	}
	d, err := b.pingauthzWith("pingauthz", sqliteIn(b.dir, "soak"), 1,
		[]string{
			config.VarName("policy__dir", false) + "=" + policyDir,
			config.VarName("decision_log__url", false) + "=" + col.URL,
		},
		[]string{"--metrics-listen", metricsAddr})
	if err != nil {
		return err
	}
	defer d.stop()
	metricsURL := "http://" + metricsAddr + "/metrics"

	fmt.Printf("soak: %s of logins at %d concurrent; every %s the extension is rewritten (every third set broken) and the collector flips between up and down\n\n",
		dur, concurrency, every)
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var logins atomic.Int64
	loginErr := make(chan error, 1)
	go func() { loginErr <- loginUntil(ctx, d, concurrency, repeat, b.users, &logins) }()

	fmt.Printf("%4s %7s %6s %9s", "s", "logins", "set", "collector")
	for _, f := range soakFigures {
		fmt.Printf(" %*s", len(f.name), f.name)
	}
	fmt.Println()
	var samples [][]float64
	tick := time.NewTicker(every)
	defer tick.Stop()
	start := time.Now()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		if ctx.Err() != nil {
			break
		}
		broken := n%3 == 0
		set := "new"
		if broken {
			set = "broken"
			err = writeBroken(policyDir)
		} else {
			err = writeExtension(policyDir, n)
		}
		if err != nil {
			return err
		}
		mode, state := dltest.Unavailable, "down"
		if n%2 == 0 {
			mode, state = dltest.Up, "up"
		}
		col.SetMode(mode)
		row, err := scrape(metricsURL)
		if err != nil {
			return err
		}
		samples = append(samples, row)
		fmt.Printf("%4.0f %7d %6s %9s", time.Since(start).Seconds(), logins.Load(), set, state)
		for i, v := range row {
			fmt.Printf(" %*s", len(soakFigures[i].name), figure(soakFigures[i].name, v))
		}
		fmt.Println()
	}
	if err := <-loginErr; err != nil {
		return err
	}
	col.SetMode(dltest.Up)
	if len(samples) >= 3 {
		first, last := samples[1], samples[len(samples)-1] // the first tick is warm-up
		fmt.Printf("\nfrom %.0f s to the end:\n", every.Seconds()*2)
		for i, f := range soakFigures {
			fmt.Printf("  %-18s %s -> %s\n", f.name, figure(f.name, first[i]), figure(f.name, last[i]))
		}
	}
	fams, err := metricstest.Scrape(context.Background(), metricsURL)
	if err != nil {
		return err
	}
	value := func(name string) float64 { v, _ := fams.Value(name); return v }
	fmt.Printf("\n%d logins in %s; policy reloads %v, rejected %v; decision-log events %v, dropped %v\n",
		logins.Load(), dur, value("pingauthz_policy_reloads_total"), value("pingauthz_policy_reload_failures_total"),
		value("pingauthz_decision_log_events_total"), value("pingauthz_decision_log_dropped_events_total"))
	counts := col.Counts()
	got, dups := len(counts), 0
	for _, n := range counts {
		if n > 1 {
			dups++
		}
	}
	fmt.Printf("collector so far: %d distinct events, %d received more than once (the rest are buffered for the next upload)\n", got, dups)
	return nil
}

// loginUntil logs users in at concurrency until ctx ends; a failed login
// ends it with the error.
func loginUntil(ctx context.Context, d *deployment, concurrency, repeat int, users []pingemu.User, count *atomic.Int64) error {
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	for w := range concurrency {
		wg.Go(func() {
			for i := w; ctx.Err() == nil; i += concurrency {
				u := users[i%repeat]
				err := login(ctx, demo.NewBrowserClient(tr), d, u)
				if err != nil && ctx.Err() == nil {
					once.Do(func() { first = fmt.Errorf("soak: login %s: %w", u.Username, err) })
					return
				}
				if err == nil {
					count.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return first
}

// writeExtension writes the n-th good extension: a deny rule for one
// address no user has, so every login is still allowed.
func writeExtension(dir string, n int) error {
	src := fmt.Sprintf(`package clearml.sso.extend

deny contains {"code": "deny:soak_%d", "message": "Set %d denies this address."} if {
	input.identity.email == "nobody-%d@soak.example"
}
`, n, n, n)
	return writeAtomic(filepath.Join(dir, "extend.rego"), src)
}

// writeBroken writes an extension that does not compile.
func writeBroken(dir string) error {
	return writeAtomic(filepath.Join(dir, "extend.rego"), "package clearml.sso.extend\n\ndeny contains x if {\n")
}

// writeAtomic replaces path by a rename, as an editor or a ConfigMap does.
func writeAtomic(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// scrape returns the soak figures from the metrics at url.
func scrape(url string) ([]float64, error) {
	fams, err := metricstest.Scrape(context.Background(), url)
	if err != nil {
		return nil, err
	}
	row := make([]float64, len(soakFigures))
	for i, f := range soakFigures {
		v, ok := fams.Value(f.metric)
		if !ok {
			return nil, fmt.Errorf("soak: %s has no %s", url, f.metric)
		}
		row[i] = v
	}
	return row, nil
}

func figure(name string, v float64) string {
	if strings.HasSuffix(name, " MB") {
		return fmt.Sprintf("%.1f", v/(1<<20))
	}
	return fmt.Sprintf("%.0f", v)
}
