// Command loadgen measures full logins against the real `pingauthz serve`
// binary: it runs the Ping emulator in its own process, starts the server
// (which starts its plugin), drives browser-less logins over HTTP, and
// reports logins per second, p50/p99 latency and the resident memory of
// the server and the plugin. bench/logins.sh builds and runs it.
// Everything listens on 127.0.0.1.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/procfs"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// phase is one measured run of logins.
type phase struct {
	name        string
	logins      int
	concurrency int
	// signup picks fresh users; otherwise the first repeat users again.
	signup bool
}

func run() error {
	cli := flag.String("cli", "", "the pingauthz binary, with pingauthz-plugin next to it (required)")
	seqSignups := flag.Int("signups-seq", 200, "sign-ups one at a time")
	parSignups := flag.Int("signups-par", 800, "sign-ups 8 at a time")
	seqLogins := flag.Int("logins-seq", 500, "repeat logins one at a time")
	parLogins := flag.Int("logins-par", 2000, "repeat logins 8 at a time")
	concurrency := flag.Int("concurrency", 8, "concurrent logins in the parallel phases")
	repeat := flag.Int("repeat", 64, "distinct existing users the repeat logins cycle through")
	attackPairs := flag.Int("attack", 0, "after the login phases, flood with this many begin/error pairs from one client while a user logs in from another (0: no attack phase)")
	flag.Parse()
	if *cli == "" {
		return errors.New("-cli is required")
	}
	phases := []phase{
		{"sign-up, sequential", *seqSignups, 1, true},
		{fmt.Sprintf("sign-up, %d concurrent", *concurrency), *parSignups, *concurrency, true},
		{"login, sequential", *seqLogins, 1, false},
		{fmt.Sprintf("login, %d concurrent", *concurrency), *parLogins, *concurrency, false},
	}
	if *repeat < 1 || *repeat > *seqSignups+*parSignups {
		return fmt.Errorf("-repeat %d must be between 1 and the number of sign-ups", *repeat)
	}

	users := make([]pingemu.User, *seqSignups+*parSignups)
	for i := range users {
		name := fmt.Sprintf("user%06d", i)
		users[i] = pingemu.User{
			Username: name, Password: name + "-pw",
			Claims: map[string]any{"email": name + "@example.com", "email_verified": true, "name": name},
			Groups: []string{demo.TeamGroup},
		}
	}
	idp, err := pingemu.Start(pingemu.Options{Users: users})
	if err != nil {
		return err
	}
	defer idp.Close()

	dir, err := os.MkdirTemp("", "pingauthz-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "pingauthz.db")
	for _, args := range [][]string{
		{"company", "add", demo.CompanyID, "--name", demo.CompanyName},
		{"group", "add", "--company", demo.CompanyID, demo.TeamGroup},
	} {
		if out, err := exec.Command(*cli, append([]string{"admin", "--db", db}, args...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("admin %v: %v\n%s", args, err, out)
		}
	}

	const clientID, secret = "bench", "bench-secret-0123456789abcdef0123"
	srv, base, err := startServer(*cli, db, append(config.RequiredEnv(idp.AuthorizeURL(), idp.TokenURL(), clientID, secret),
		config.VarName("code_challenge", false)+"=true",
		config.VarName("groups__enabled", false)+"=true",
		config.VarName("groups__admins", false)+`=["`+demo.AdminGroup+`"]`,
		config.VarName("default_company", true)+"="+demo.CompanyID,
	))
	if err != nil {
		return err
	}
	defer stopServer(srv)
	if err := idp.AddClient(pingemu.Client{ID: clientID, Secret: secret, RedirectURIs: []string{base + host.CallbackPath}}); err != nil {
		return err
	}

	fmt.Printf("server %s (pid %d), emulator %s, %d cores\n\n", base, srv.Process.Pid, idp.URL(), runtime.NumCPU())
	tw := tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tlogins\tlogins/s\tp50 ms\tp99 ms\ttotal\tserver RSS MB\tplugin RSS MB\t")
	next, total := 0, 0
	for _, ph := range phases {
		offset := next
		pick := func(i int) pingemu.User { return users[offset+i] }
		if ph.signup {
			next += ph.logins
		} else {
			pick = func(i int) pingemu.User { return users[i%*repeat] }
		}
		lat, wall, err := runLogins(base, ph.logins, ph.concurrency, pick)
		if err != nil {
			return fmt.Errorf("%s: %w", ph.name, err)
		}
		total += ph.logins
		slices.Sort(lat)
		serverRSS, pluginRSS, err := memory(srv.Process.Pid)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t%.2f\t%d\t%.1f\t%.1f\t\n", ph.name, ph.logins, float64(ph.logins)/wall.Seconds(),
			ms(percentile(lat, 50)), ms(percentile(lat, 99)), total, serverRSS, pluginRSS)
	}
	tw.Flush()

	plugins, err := procfs.ChildPIDs(srv.Process.Pid, "pingauthz-plugin")
	if err != nil || len(plugins) != 1 {
		return fmt.Errorf("finding the plugin process of pid %d: %v %v", srv.Process.Pid, plugins, err)
	}
	fmt.Printf("\nresident memory after %d logins:\n", total)
	if err := printMemory("server (pingauthz serve)", srv.Process.Pid); err != nil {
		return err
	}
	if err := printMemory("plugin (pingauthz-plugin)", plugins[0]); err != nil {
		return err
	}
	if *attackPairs > 0 {
		return attack(base, idp.Issuer(), *attackPairs, 4, users[0], srv.Process.Pid)
	}
	return nil
}

// memory returns the VmRSS in MB of the server and of its plugin.
func memory(server int) (serverMB, pluginMB float64, err error) {
	plugins, err := procfs.ChildPIDs(server, "pingauthz-plugin")
	if err != nil || len(plugins) != 1 {
		return 0, 0, fmt.Errorf("finding the plugin process of pid %d: %v %v", server, plugins, err)
	}
	s, err := procfs.VmRSS(server)
	if err != nil {
		return 0, 0, err
	}
	p, err := procfs.VmRSS(plugins[0])
	return float64(s) / 1024, float64(p) / 1024, err
}

var servingLine = regexp.MustCompile(`serving (http://127\.0\.0\.1:\d+) on`)

// startServer starts `pingauthz serve` on a free loopback port and returns
// it with its URL once it serves.
func startServer(cli, db string, env []string) (*exec.Cmd, string, error) {
	cmd := exec.Command(cli, "serve", "--listen", "127.0.0.1:0", "--db", db, "--log-level", "warn")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return cmd, m[1], nil
		}
	}
	_ = cmd.Wait()
	return nil, "", fmt.Errorf("pingauthz serve ended before serving: %v", cmd.ProcessState)
}

func stopServer(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// runLogins runs n logins with the given concurrency and returns each
// login's latency and the wall time.
func runLogins(base string, n, workers int, pick func(int) pingemu.User) ([]time.Duration, time.Duration, error) {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	ctx := context.Background()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				u := pick(i)
				t0 := time.Now()
				r, err := demo.Login(ctx, demo.NewBrowserClient(tr), base, u.Username, u.Password)
				if err == nil && (r.Status != http.StatusSeeOther || !r.Session) {
					err = fmt.Errorf("callback status %d, session %v", r.Status, r.Session)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("login %s: %w", u.Username, err)
					}
					mu.Unlock()
					next.Store(int64(n)) // stop the others
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	return lat, time.Since(start), firstErr
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(float64(len(sorted)-1)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// printMemory prints VmRSS and VmHWM (peak) of a process.
func printMemory(label string, pid int) error {
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return err
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	fmt.Printf("  %-26s pid %-7d VmRSS %-12s VmHWM (peak) %s\n", label, pid, fields["VmRSS"], fields["VmHWM"])
	return nil
}
