package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	goplugin "github.com/hashicorp/go-plugin"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/plugin"
	"github.com/pingauthz/pingauthz/plugin/ping"
	"github.com/pingauthz/pingauthz/rego"
)

// BenchmarkDecideRPC measures one Decide through the real plugin binary
// (gRPC over AutoMTLS, policy evaluation included) and reports its p50.
func BenchmarkDecideRPC(b *testing.B) {
	a, in := decideSetup(b)
	ctx := context.Background()
	timeEach(b, func() error {
		_, err := a.Decide(ctx, in)
		return err
	})
}

// BenchmarkInfoRPC measures Info, which only returns fixed data (the masked
// config summary among it).
func BenchmarkInfoRPC(b *testing.B) {
	emu := startEmulator(b)
	_, a := launch(b, emu.env, hostLogger(b))
	ctx := context.Background()
	timeEach(b, func() error {
		_, err := a.Info(ctx)
		return err
	})
}

// BenchmarkHealthRPC measures gRPC's own health check on the plugin's
// connection: the transport floor (two processes, HTTP/2, AutoMTLS) under
// every call, with no pingauthz code on either side.
func BenchmarkHealthRPC(b *testing.B) {
	emu := startEmulator(b)
	client, _ := launch(b, emu.env, hostLogger(b))
	rpc, err := client.Client()
	if err != nil {
		b.Fatal(err)
	}
	grpcClient, ok := rpc.(*goplugin.GRPCClient)
	if !ok {
		b.Fatalf("plugin client is %T, not gRPC", rpc)
	}
	health := healthpb.NewHealthClient(grpcClient.Conn)
	req := &healthpb.HealthCheckRequest{Service: goplugin.GRPCServiceName}
	ctx := context.Background()
	timeEach(b, func() error {
		_, err := health.Check(ctx, req)
		return err
	})
}

// BenchmarkPluginStart measures from plugin.NewClient to the first
// successful Info: process start, handshake, AutoMTLS and policy compilation.
func BenchmarkPluginStart(b *testing.B) {
	emu := startEmulator(b)
	logger := hostLogger(b)
	ctx := context.Background()
	var durations []time.Duration
	for b.Loop() {
		cfg := clientConfig(b, emu.env, logger)
		start := time.Now()
		client := goplugin.NewClient(cfg)
		a, err := plugin.Dispense(client)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.Info(ctx); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
		b.StopTimer()
		client.Kill()
		b.StartTimer()
	}
	reportPercentiles(b, durations)
}

// timeEach runs call in the benchmark loop and reports the p50 and p99 of
// its durations.
func timeEach(b *testing.B, call func() error) {
	var durations []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := call(); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
	}
	reportPercentiles(b, durations)
}

// reportPercentiles reports the p50 and p99 of durations in microseconds.
func reportPercentiles(b *testing.B, durations []time.Duration) {
	if len(durations) == 0 {
		return
	}
	slices.Sort(durations)
	at := func(q float64) float64 {
		return float64(durations[int(q*float64(len(durations)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkDecideRPCParallel measures Decide throughput through the real
// plugin binary with 8 callers per CPU at once (ns/op is per decision).
func BenchmarkDecideRPCParallel(b *testing.B) {
	a, in := decideSetup(b)
	ctx := context.Background()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Decide(ctx, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// decideSetup launches the plugin with group sync and an Admins admin group,
// pushes acme's directory, and returns the plugin and alice's input.
func decideSetup(b *testing.B) (plugin.Authenticator, *sso.Input) {
	b.Helper()
	emu, in := decideInput(b)
	_, a := launch(b, emu.env, hostLogger(b))
	if err := a.SetDirectory(context.Background(), acme()); err != nil {
		b.Fatal(err)
	}
	return a, in
}

// decideInput starts the emulator with the environment of decideSetup and
// returns it with alice's input: a whitelist sign-up in two groups.
func decideInput(b *testing.B) (*emulator, *sso.Input) {
	b.Helper()
	emu := startEmulator(b, ping.EnvName("groups__enabled")+"=true", ping.EnvName("groups__admins")+`=["Admins"]`)
	in := &sso.Input{Identity: sso.Identity{
		Issuer: emu.srv.Issuer(), Subject: "s1", UserID: "s1", Email: "alice@acme.com", EmailVerified: verified(true),
		Name: "Alice", Groups: []string{"ML Team", "Admins"},
		Claims: map[string]any{"sub": "s1", "email": "alice@acme.com", "groups": []any{"ML Team", "Admins"}},
	}}
	return emu, in
}

// BenchmarkDecideInProcess evaluates BenchmarkDecideRPC's decision with the
// same configuration in this process, without gRPC: the part of each call
// that is policy evaluation.
func BenchmarkDecideInProcess(b *testing.B) {
	emu, in := decideInput(b)
	cfg, _, err := config.Load(emu.env)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	e, err := rego.New(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := e.SetDirectory(ctx, acme()); err != nil {
		b.Fatal(err)
	}
	timeEach(b, func() error {
		_, err := e.Decide(ctx, in)
		return err
	})
}
