package main

import (
	"fmt"
	"os"
	"slices"
	"text/tabwriter"

	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/pingemu"
)

// row is one target of a comparison: a deployment and which users log in.
type row struct {
	name   string
	d      *deployment
	signup bool
	runs   []measured
}

// compare runs pingauthz (sign-ups and repeat logins), a baseline build of
// it when baselineCLI is set, and oauth2-proxy (logins) in alternating
// rounds of n logins each, with the given concurrency, and prints the
// median of each figure and the ratios.
func (b *bench) compare(peerBin, baselineCLI string, rounds, n, workers, repeat int) error {
	pa, err := b.pingauthz("pingauthz", sqliteIn(b.dir, "compare"), 1)
	if err != nil {
		return err
	}
	defer pa.stop()
	var base *deployment
	if baselineCLI != "" {
		if base, err = b.pingauthzOf(baselineCLI, "baseline", sqliteIn(b.dir, "baseline"), 1); err != nil {
			return err
		}
		defer base.stop()
	}
	peerID := b.newClientID()
	peer, err := startPeerRegistered(b, peerBin, peerID)
	if err != nil {
		return err
	}
	b.onInterrupt(peer.stop)
	defer peer.stop()
	// The repeat logins need users who signed up: the first ones.
	rows := []*row{
		{name: "pingauthz sign-up", d: pa, signup: true},
		{name: "pingauthz login", d: pa},
	}
	if base != nil {
		rows = append(rows, &row{name: "baseline sign-up", d: base, signup: true}, &row{name: "baseline login", d: base})
	}
	rows = append(rows, &row{name: "oauth2-proxy login", d: peer})
	for _, rw := range rows {
		if rw.d.child != "" && rw.signup {
			if _, err := runLogins(rw.d, repeat, workers, func(i int) pingemu.User { return b.users[i] }); err != nil {
				return fmt.Errorf("signing up the repeat users: %w", err)
			}
		}
	}
	b.next = repeat
	for r := range rounds {
		for _, rw := range rows {
			pick := func(i int) pingemu.User { return b.users[i%repeat] }
			if rw.signup {
				if pick, err = b.signups(n); err != nil {
					return err
				}
			}
			m, err := runLogins(rw.d, n, workers, pick)
			if err != nil {
				return err
			}
			rw.runs = append(rw.runs, m)
			fmt.Printf("round %d  %-20s %7.1f logins/s  CPU %.3f ms/login\n", r+1, rw.name, m.perSecond(), m.cpuPerLogin())
		}
	}
	fmt.Printf("\nmedians of %d rounds, %d logins each, %d concurrent:\n", rounds, n, workers)
	tw := tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tlogins/s\tp50 ms\tp99 ms\tCPU ms/login\tRSS MB\t")
	for _, rw := range rows {
		rss := fmt.Sprintf("%.1f", median(rw.runs, func(m measured) float64 { return m.serverRSS }))
		if rw.d.child != "" {
			rss = fmt.Sprintf("%s + %.1f", rss, median(rw.runs, func(m measured) float64 { return m.childRSS }))
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.2f\t%.2f\t%.3f\t%s\t\n", rw.name,
			median(rw.runs, measured.perSecond),
			median(rw.runs, func(m measured) float64 { return ms(percentile(m.lat, 50)) }),
			median(rw.runs, func(m measured) float64 { return ms(percentile(m.lat, 99)) }),
			median(rw.runs, measured.cpuPerLogin), rss)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	peerRow := rows[len(rows)-1]
	peerRate, peerCPU := median(peerRow.runs, measured.perSecond), median(peerRow.runs, measured.cpuPerLogin)
	fmt.Println("\nratio to oauth2-proxy (logins/s: higher is better; CPU per login: lower is better):")
	for _, rw := range rows[:len(rows)-1] {
		fmt.Printf("  %-18s logins/s x%.2f   CPU per login x%.2f\n", rw.name,
			median(rw.runs, measured.perSecond)/peerRate, median(rw.runs, measured.cpuPerLogin)/peerCPU)
	}
	return nil
}

// startPeerRegistered starts oauth2-proxy with its own client at the
// emulator, allowing the team group.
func startPeerRegistered(b *bench, bin, id string) (*deployment, error) {
	d, err := startPeer(peerOptions{bin: bin, issuer: b.idp.Issuer(), clientID: id, secret: clientSecret, group: demo.TeamGroup, logs: b.logs,
		register: func(redirectURI string) error {
			return b.idp.AddClient(pingemu.Client{ID: id, Secret: clientSecret, RedirectURIs: []string{redirectURI}, PKCE: pingemu.PKCES256Required})
		}})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// median is the median of f over the runs.
func median(runs []measured, f func(measured) float64) float64 {
	v := make([]float64, len(runs))
	for i, m := range runs {
		v[i] = f(m)
	}
	slices.Sort(v)
	return v[len(v)/2]
}
