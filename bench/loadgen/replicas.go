package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"text/tabwriter"

	"github.com/jackc/pgx/v5"

	"github.com/pingauthz/pingauthz/internal/pingemu"
)

// schema is a fresh schema on a PostgreSQL server for one deployment,
// dropped by drop.
type schema struct {
	base, name string
}

// newSchema creates a schema on the database base names and returns it.
func newSchema(base string) (*schema, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	s := &schema{base: base, name: "bench_" + hex.EncodeToString(b[:])}
	return s, s.exec("CREATE SCHEMA " + s.name)
}

// url is the database URL with the schema as its search path.
func (s *schema) url() (string, error) {
	u, err := url.Parse(s.base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", s.name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func (s *schema) drop() error { return s.exec("DROP SCHEMA " + s.name + " CASCADE") }

func (s *schema) exec(q string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.base)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, q); err != nil {
		return fmt.Errorf("postgres: %s: %w", q, err)
	}
	return nil
}

// stores compares SQLite with one server and PostgreSQL with one and two
// replicas behind a round-robin proxy, in alternating rounds of n sign-ups
// and n repeat logins each, and prints the medians.
func (b *bench) stores(pgURL string, rounds, n, workers, repeat int) error {
	type target struct {
		name     string
		replicas int
		postgres bool
		d        *deployment
		signups  []measured
		logins   []measured
	}
	targets := []*target{
		{name: "SQLite, 1 server", replicas: 1},
		{name: "PostgreSQL, 1 replica", replicas: 1, postgres: true},
		{name: "PostgreSQL, 2 replicas", replicas: 2, postgres: true},
	}
	for i, tg := range targets {
		db := sqliteIn(b.dir, fmt.Sprintf("stores-%d", i))
		if tg.postgres {
			s, err := newSchema(pgURL)
			if err != nil {
				return err
			}
			b.onInterrupt(func() { _ = s.drop() })
			defer func() {
				if err := s.drop(); err != nil {
					fmt.Fprintln(os.Stderr, "loadgen:", err)
				}
			}()
			if db, err = s.url(); err != nil {
				return err
			}
		}
		d, err := b.pingauthz(tg.name, db, tg.replicas)
		if err != nil {
			return fmt.Errorf("%s: %w", tg.name, err)
		}
		tg.d = d
		defer d.stop()
		// The repeat logins need users who signed up on this deployment.
		if _, err := runLogins(d, repeat, workers, func(i int) pingemu.User { return b.users[i] }); err != nil {
			return fmt.Errorf("%s: signing up the repeat users: %w", tg.name, err)
		}
	}
	b.next = repeat
	for r := range rounds {
		for _, tg := range targets {
			pick, err := b.signups(n)
			if err != nil {
				return err
			}
			m, err := runLogins(tg.d, n, workers, pick)
			if err != nil {
				return err
			}
			tg.signups = append(tg.signups, m)
			if m, err = runLogins(tg.d, n, workers, func(i int) pingemu.User { return b.users[i%repeat] }); err != nil {
				return err
			}
			tg.logins = append(tg.logins, m)
			fmt.Printf("round %d  %-24s sign-up %6.1f/s %.3f ms CPU   login %6.1f/s %.3f ms CPU\n", r+1, tg.name,
				tg.signups[r].perSecond(), tg.signups[r].cpuPerLogin(), m.perSecond(), m.cpuPerLogin())
		}
	}
	fmt.Printf("\nmedians of %d rounds, %d logins each, %d concurrent; CPU of every server and plugin process:\n", rounds, n, workers)
	tw := tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tsign-ups/s\tCPU ms/sign-up\tlogins/s\tCPU ms/login\tp99 ms (login)\t")
	for _, tg := range targets {
		fmt.Fprintf(tw, "%s\t%.1f\t%.3f\t%.1f\t%.3f\t%.2f\t\n", tg.name,
			median(tg.signups, measured.perSecond), median(tg.signups, measured.cpuPerLogin),
			median(tg.logins, measured.perSecond), median(tg.logins, measured.cpuPerLogin),
			median(tg.logins, func(m measured) float64 { return ms(percentile(m.lat, 99)) }))
	}
	return tw.Flush()
}
