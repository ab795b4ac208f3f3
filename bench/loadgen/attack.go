package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/pingauthz/pingauthz/internal/flood"
	"github.com/pingauthz/pingauthz/internal/pingemu"
)

// Loopback addresses of the flooding client and of the real user in the
// attack phase; the server tells clients apart by address.
const (
	attackerIP = "127.0.0.2"
	userIP     = "127.0.0.3"
)

// attack floods the server with n begin/error pairs from one client (as a
// script can, without an account) while user logs in from another client
// every tenth of a second, and prints what both got.
func attack(d *deployment, issuer string, n, workers int, user pingemu.User) error {
	base := d.base
	ctx := context.Background()
	fmt.Printf("\nattack: %d begin/error pairs from %s over %d connections; %s logs in from %s every 100 ms\n",
		n, attackerIP, workers, user.Username, userIP)
	done := make(chan struct{})
	var res *flood.Result
	go func() {
		defer close(done)
		res = flood.Run(ctx, flood.Client(attackerIP, workers), base, issuer, n, workers)
	}()
	took, loginErr := flood.Logins(ctx, flood.Client(userIP, 2).Transport, base, user.Username, user.Password, 100*time.Millisecond, done)
	<-done
	fmt.Printf("  flood: %d pairs in %s, %.0f pairs/s\n", res.Pairs, res.Elapsed.Round(time.Millisecond), float64(res.Pairs)/res.Elapsed.Seconds())
	answers := make([]string, 0, len(res.Answers))
	for a := range res.Answers {
		answers = append(answers, a)
	}
	sort.Strings(answers)
	for _, a := range answers {
		fmt.Printf("    %8d  %s\n", res.Answers[a], a)
	}
	if len(took) > 0 {
		slices.Sort(took)
		fmt.Printf("  real logins during the flood: %d, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", len(took),
			ms(percentile(took, 50)), ms(percentile(took, 99)), ms(took[len(took)-1]))
	}
	serverMB, pluginMB, err := d.rss()
	if err != nil {
		return err
	}
	fmt.Printf("  resident memory after the attack: server %.1f MB, plugin %.1f MB\n", serverMB, pluginMB)
	if loginErr != nil {
		return fmt.Errorf("attack: a real login failed: %w", loginErr)
	}
	return nil
}
