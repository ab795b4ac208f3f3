package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/demo"
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
	col, err := startCollector()
	if err != nil {
		return err
	}
	defer col.close()
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
			config.VarName("decision_log__url", false) + "=" + col.url,
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
		up := col.flip()
		row, err := scrape(metricsURL)
		if err != nil {
			return err
		}
		samples = append(samples, row)
		fmt.Printf("%4.0f %7d %6s %9s", time.Since(start).Seconds(), logins.Load(), set, map[bool]string{true: "up", false: "down"}[up])
		for i, v := range row {
			fmt.Printf(" %*s", len(soakFigures[i].name), figure(soakFigures[i].name, v))
		}
		fmt.Println()
	}
	if err := <-loginErr; err != nil {
		return err
	}
	col.setUp(true)
	if len(samples) >= 3 {
		first, last := samples[1], samples[len(samples)-1] // the first tick is warm-up
		fmt.Printf("\nfrom %.0f s to the end:\n", every.Seconds()*2)
		for i, f := range soakFigures {
			fmt.Printf("  %-18s %s -> %s\n", f.name, figure(f.name, first[i]), figure(f.name, last[i]))
		}
	}
	stats, err := scrapeAll(metricsURL)
	if err != nil {
		return err
	}
	fmt.Printf("\n%d logins in %s; policy reloads %v, rejected %v; decision-log events %v, dropped %v\n",
		logins.Load(), dur, stats["pingauthz_policy_reloads_total"], stats["pingauthz_policy_reload_failures_total"],
		stats["pingauthz_decision_log_events_total"], stats["pingauthz_decision_log_dropped_events_total"])
	got, dups := col.counts()
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

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// scrape returns the soak figures from the metrics at url.
func scrape(url string) ([]float64, error) {
	all, err := scrapeAll(url)
	if err != nil {
		return nil, err
	}
	row := make([]float64, len(soakFigures))
	for i, f := range soakFigures {
		v, ok := all[f.metric]
		if !ok {
			return nil, fmt.Errorf("soak: %s has no %s", url, f.metric)
		}
		row[i] = v
	}
	return row, nil
}

// scrapeAll reads the unlabelled samples of the text format at url.
func scrapeAll(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("soak: GET %s: %s", url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.Contains(line, "{") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

func figure(name string, v float64) string {
	if strings.HasSuffix(name, " MB") {
		return fmt.Sprintf("%.1f", v/(1<<20))
	}
	return fmt.Sprintf("%.0f", v)
}

// collector is a decision-log collector that can be taken down: it answers
// 503 while down and counts the events it received, by decision_id.
type collector struct {
	url  string
	srv  *http.Server
	mu   sync.Mutex
	up   bool
	seen map[string]int
}

func startCollector() (*collector, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &collector{url: "http://" + ln.Addr().String(), up: true, seen: map[string]int{}}
	c.srv = &http.Server{Handler: http.HandlerFunc(c.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

func (c *collector) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	up := c.up
	c.mu.Unlock()
	if !up {
		http.Error(w, "collector down", http.StatusServiceUnavailable)
		return
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var events []struct {
		ID string `json:"decision_id"`
	}
	if err := json.NewDecoder(zr).Decode(&events); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, e := range events {
		c.seen[e.ID]++
	}
	c.mu.Unlock()
}

// flip takes the collector down or brings it back, and says whether it
// is up now.
func (c *collector) flip() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.up = !c.up
	return c.up
}

func (c *collector) setUp(up bool) {
	c.mu.Lock()
	c.up = up
	c.mu.Unlock()
}

// counts returns the distinct events received and how many came more
// than once.
func (c *collector) counts() (distinct, repeated int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.seen {
		if n > 1 {
			repeated++
		}
	}
	return len(c.seen), repeated
}

func (c *collector) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = c.srv.Close()
	}
}
