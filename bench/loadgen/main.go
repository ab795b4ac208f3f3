// Command loadgen measures full logins against the real `pingauthz serve`
// binary and its plugin process: it runs the Ping emulator in its own
// process, starts the server, drives browser-less logins over HTTP, and
// reports logins per second, p50/p99 latency, the CPU time the server and
// the plugin spent per login, and their resident memory. With -peer it
// compares with oauth2-proxy on the same emulator in alternating rounds;
// with -attack it adds a flood by a client without an account.
// bench/logins.sh and bench/peer.sh build and run it. Everything listens on
// 127.0.0.1.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/pingemu"
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

// bench holds what every mode shares: the emulator, its users and the
// configuration of the servers.
type bench struct {
	cli   string
	dir   string
	idp   *pingemu.Server
	users []pingemu.User
	next  int // the first user not signed up yet
	// env is added to every pingauthz server's environment.
	env []string
	// clients counts the OAuth clients registered, one per deployment.
	clients int
	// logs gets the servers' log lines (failed logins of an attack are
	// logged each).
	logs *os.File

	mu    sync.Mutex
	stops []func() // what an interrupt must stop, latest last
}

// onInterrupt registers f to run when the load program is interrupted, so
// that no server or schema outlives it.
func (b *bench) onInterrupt(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stops = append(b.stops, f)
}

// stopOnSignal stops everything registered and exits at SIGINT or SIGTERM.
func (b *bench) stopOnSignal() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		b.mu.Lock()
		for i := len(b.stops) - 1; i >= 0; i-- {
			b.stops[i]()
		}
		b.mu.Unlock()
		b.close()
		os.Exit(130)
	}()
}

const clientSecret = "bench-secret-0123456789abcdef0123"

func run() error {
	cli := flag.String("cli", "", "the pingauthz binary, with pingauthz-plugin next to it (required)")
	seqSignups := flag.Int("signups-seq", 200, "sign-ups one at a time")
	parSignups := flag.Int("signups-par", 800, "sign-ups 8 at a time")
	seqLogins := flag.Int("logins-seq", 500, "repeat logins one at a time")
	parLogins := flag.Int("logins-par", 2000, "repeat logins 8 at a time")
	concurrency := flag.Int("concurrency", 8, "concurrent logins in the parallel phases and rounds")
	repeat := flag.Int("repeat", 64, "distinct existing users the repeat logins cycle through")
	attackPairs := flag.Int("attack", 0, "after the login phases, flood with this many begin/error pairs from one client while a user logs in from another (0: no attack phase)")
	peer := flag.String("peer", "", "an oauth2-proxy `binary`: instead of the phases, compare pingauthz with it in alternating rounds")
	baseline := flag.String("baseline", "", "with -peer, another pingauthz `binary` (e.g. an older build) measured in the same rounds")
	pgURL := flag.String("db", "", "a PostgreSQL `URL` (of a database where schemas may be created): instead of the phases, compare SQLite with PostgreSQL with 1 and 2 replicas in alternating rounds")
	rounds := flag.Int("rounds", 3, "rounds of -peer or -db")
	var serverEnv envList
	flag.Var(&serverEnv, "env", "a `NAME=VALUE` added to every pingauthz server's environment, and so its plugin's, e.g. GOGC=200 (repeatable)")
	soakFor := flag.Duration("soak", 0, "instead of the phases, log in for this `long` while the policy is reloaded and the decision-log collector flaps, and print the processes' goroutines, FDs and memory")
	soakEvery := flag.Duration("soak-every", 5*time.Second, "with -soak, how often the policy changes, the collector flips and the figures are sampled")
	perRound := flag.Int("logins", 1000, "logins of each target in each round of -peer or -db")
	flag.Parse()
	switch {
	case *cli == "":
		return errors.New("-cli is required")
	case *repeat < 1 || *repeat > max(*seqSignups+*parSignups, *perRound):
		return fmt.Errorf("-repeat %d must be between 1 and the number of sign-ups", *repeat)
	case *rounds < 1 || *perRound < 1 || *concurrency < 1:
		return errors.New("-rounds, -logins and -concurrency must be at least 1")
	}
	total := *seqSignups + *parSignups
	switch {
	case *peer != "" && *pgURL != "":
		return errors.New("-peer and -db are separate comparisons; give one")
	case *peer != "":
		total = *repeat + *rounds**perRound
		if *baseline != "" {
			total += *rounds * *perRound
		}
	case *pgURL != "":
		total = *repeat + 3**rounds**perRound
	}
	b, err := newBench(*cli, total)
	if err != nil {
		return err
	}
	b.env = serverEnv
	defer b.close()
	b.stopOnSignal()
	fmt.Printf("emulator %s, %d cores, %s\n\n", b.idp.URL(), runtime.NumCPU(), time.Now().UTC().Format(time.DateTime))
	if *peer != "" {
		return b.compare(*peer, *baseline, *rounds, *perRound, *concurrency, *repeat)
	}
	if *soakFor > 0 {
		return b.soak(*soakFor, *soakEvery, *concurrency, *repeat)
	}
	if *pgURL != "" {
		return b.stores(*pgURL, *rounds, *perRound, *concurrency, *repeat)
	}
	phases := []phase{
		{"sign-up, sequential", *seqSignups, 1, true},
		{fmt.Sprintf("sign-up, %d concurrent", *concurrency), *parSignups, *concurrency, true},
		{"login, sequential", *seqLogins, 1, false},
		{fmt.Sprintf("login, %d concurrent", *concurrency), *parLogins, *concurrency, false},
	}
	d, err := b.pingauthz("pingauthz", sqliteIn(b.dir, "phases"), 1)
	if err != nil {
		return err
	}
	defer d.stop()
	if err := b.phases(d, phases, *repeat); err != nil {
		return err
	}
	if *attackPairs > 0 {
		return attack(d, b.idp.Issuer(), *attackPairs, 4, b.users[0])
	}
	return nil
}

// newBench starts the emulator with n users, all in the team group.
func newBench(cli string, n int) (*bench, error) {
	users := make([]pingemu.User, n)
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
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pingauthz-bench-")
	if err != nil {
		_ = idp.Close()
		return nil, err
	}
	logs, err := os.CreateTemp("", "pingauthz-bench-*.log")
	if err != nil {
		_ = idp.Close()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return &bench{cli: cli, dir: dir, idp: idp, users: users, logs: logs}, nil
}

// close stops the emulator and removes the databases; the servers' log
// stays, and its path is printed.
func (b *bench) close() {
	_ = b.idp.Close()
	_ = os.RemoveAll(b.dir)
	_ = b.logs.Close()
	fmt.Printf("\nthe servers' log: %s\n", b.logs.Name())
}

// pingauthz seeds db and starts n replicas of the server on it, with PKCE,
// group and role sync, registered at the emulator.
func (b *bench) pingauthz(name, db string, n int) (*deployment, error) {
	return b.pingauthzOf(b.cli, name, db, n)
}

// pingauthzOf is pingauthz with the CLI binary cli.
func (b *bench) pingauthzOf(cli, name, db string, n int) (*deployment, error) {
	return b.start(cli, name, db, n, nil, nil)
}

// pingauthzWith is pingauthz with more variables and serve flags.
func (b *bench) pingauthzWith(name, db string, n int, env, args []string) (*deployment, error) {
	return b.start(b.cli, name, db, n, env, args)
}

func (b *bench) start(cli, name, db string, n int, env, args []string) (*deployment, error) {
	if err := adminSeed(cli, db, demo.CompanyID, demo.CompanyName, demo.TeamGroup); err != nil {
		return nil, err
	}
	clientID := b.newClientID()
	all := append(config.RequiredEnv(b.idp.AuthorizeURL(), b.idp.TokenURL(), clientID, clientSecret),
		config.VarName("code_challenge", false)+"=true",
		config.VarName("groups__enabled", false)+"=true",
		config.VarName("groups__admins", false)+`=["`+demo.AdminGroup+`"]`,
		config.VarName("default_company", true)+"="+demo.CompanyID,
	)
	all = append(all, b.env...)
	d, err := startPingauthz(name, cli, db, n, append(all, env...), args, b.logs)
	if err != nil {
		return nil, err
	}
	b.onInterrupt(d.stop)
	if err := b.idp.AddClient(pingemu.Client{ID: clientID, Secret: clientSecret,
		RedirectURIs: []string{d.base + host.CallbackPath}, PKCE: pingemu.PKCES256Required}); err != nil {
		d.stop()
		return nil, err
	}
	return d, nil
}

// newClientID names the OAuth client of the next deployment.
func (b *bench) newClientID() string {
	b.clients++
	return fmt.Sprintf("bench-%d", b.clients)
}

// signups returns a picker of n users who have not signed up yet.
func (b *bench) signups(n int) (func(int) pingemu.User, error) {
	if b.next+n > len(b.users) {
		return nil, fmt.Errorf("%d more sign-ups, but only %d fresh users", n, len(b.users)-b.next)
	}
	offset := b.next
	b.next += n
	return func(i int) pingemu.User { return b.users[offset+i] }, nil
}

// phases runs the phases against d and prints a row for each.
func (b *bench) phases(d *deployment, phases []phase, repeat int) error {
	tw := tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tlogins\tlogins/s\tp50 ms\tp99 ms\tCPU ms/login\tserver RSS MB\tplugin RSS MB\t")
	for _, ph := range phases {
		pick := func(i int) pingemu.User { return b.users[i%repeat] }
		if ph.signup {
			var err error
			if pick, err = b.signups(ph.logins); err != nil {
				return err
			}
		}
		m, err := runLogins(d, ph.logins, ph.concurrency, pick)
		if err != nil {
			return fmt.Errorf("%s: %w", ph.name, err)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t%.2f\t%.3f\t%.1f\t%.1f\t\n", ph.name, m.logins, m.perSecond(),
			ms(percentile(m.lat, 50)), ms(percentile(m.lat, 99)), m.cpuPerLogin(), m.serverRSS, m.childRSS)
	}
	return tw.Flush()
}

func sortDurations(d []time.Duration) []time.Duration {
	slices.Sort(d)
	return d
}

// envList is a repeatable flag of NAME=VALUE.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	if name, _, ok := strings.Cut(v, "="); !ok || name == "" {
		return fmt.Errorf("%q is not NAME=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}
