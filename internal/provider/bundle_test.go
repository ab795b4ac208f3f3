package provider

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/decisionlog/dltest"
	"github.com/pingauthz/pingauthz/internal/policybundle/bundletest"
	"github.com/pingauthz/pingauthz/internal/testutil"
)

// A signed remote bundle composes with the defaults and the generated
// config. Polling picks up a rotation; a tampered or unsigned bundle is
// refused and the last good one stays; with the server down, a restart
// starts from the cached last good bundle.
func TestRemoteBundle(t *testing.T) {
	private, public := bundletest.KeyPair(t)
	build := func(version, revision, key string) []byte {
		return bundletest.OPABuild(t, map[string]string{"decision.rego": denyPolicy(version)}, revision, key)
	}
	srv := bundletest.NewServer(t)
	srv.Serve(build("b1", "r1", private), false)
	cfg := config.Default()
	cfg.AuthorizeURL, cfg.AccessTokenURL = "http://127.0.0.1:1/env/as/authorize", "http://127.0.0.1:1/env/as/token"
	cfg.ClientID, cfg.ClientSecret = clientID, clientSecret
	cfg.PolicyBundle, cfg.PolicyBundlePublicKey = srv.URL(), public
	cfg.PolicyBundleCache = t.TempDir()
	cfg.DecisionLog.File = filepath.Join(t.TempDir(), "decisions.jsonl")
	reloads := make(chan error, 10)
	start := func() *Provider {
		t.Helper()
		logger, _ := testutil.Logger(t, "provider")
		p, err := New(context.Background(), &cfg, Options{Logger: logger, pollBundleManually: true,
			OnReload: func(err error) { reloads <- err }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Close() })
		if err := p.SetDirectory(context.Background(), directory()); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctx := context.Background()
	in := &sso.Input{Identity: sso.Identity{Subject: "s", UserID: "s", Email: "a@example.com"}}
	expect := func(p *Provider, reason, revision string) {
		t.Helper()
		d, err := p.Decide(ctx, in)
		if err != nil || d.Reasons[0] != reason {
			t.Fatalf("decision %v, %v; want %s", d, err, reason)
		}
		if info, _ := p.Info(ctx); info.BundleRevision != revision {
			t.Fatalf("bundle revision %q, want %q", info.BundleRevision, revision)
		}
	}
	poll := func(p *Provider, wantErr string) {
		t.Helper()
		err := p.bundle.Poll(ctx)
		if (wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), wantErr)) {
			t.Fatalf("poll: %v, want %q", err, wantErr)
		}
	}

	p := start()
	expect(p, "deny:b1_companies_1", "r1")
	srv.Serve(build("b2", "r2", private), false)
	poll(p, "")
	if err := <-reloads; err != nil {
		t.Fatal(err)
	}
	expect(p, "deny:b2_companies_1", "r2")
	srv.Serve(bundletest.Tamper(t, build("b3", "r3", private), "decision.rego", denyPolicy("evil")), false)
	poll(p, "digest mismatch")
	srv.Serve(build("b4", "r4", ""), false)
	poll(p, "missing .signatures.json")
	srv.Serve(nil, true)
	poll(p, "Service Unavailable")
	expect(p, "deny:b2_companies_1", "r2")
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	events := dltest.ReadFile(t, cfg.DecisionLog.File)
	last := events[len(events)-1]
	if rev := last["bundles"].(map[string]any)[BundleName].(map[string]any)["revision"]; rev != "r2" {
		t.Errorf("event bundles %v", last["bundles"])
	}

	// A restart while the bundle server is down starts from the cache.
	restarted := start()
	expect(restarted, "deny:b2_companies_1", "r2")

	// Without a cache and without the server, the plugin does not start.
	cfg.PolicyBundleCache = t.TempDir()
	if _, err := New(ctx, &cfg, Options{pollBundleManually: true}); err == nil || !strings.Contains(err.Error(), "no cached bundle") {
		t.Fatalf("New without server or cache: %v", err)
	}
}

// A local bundle file signed by another key, or unsigned, is refused at
// start.
func TestLocalBundleSignature(t *testing.T) {
	private, public := bundletest.KeyPair(t)
	other, _ := bundletest.KeyPair(t)
	cfg := config.Default()
	cfg.AuthorizeURL, cfg.AccessTokenURL = "http://127.0.0.1:1/env/as/authorize", "http://127.0.0.1:1/env/as/token"
	cfg.ClientID, cfg.ClientSecret = clientID, clientSecret
	cfg.PolicyBundlePublicKey = public
	for name, tc := range map[string]struct {
		key, wantErr string
	}{
		"signed":      {private, ""},
		"another key": {other, "verify"},
		"unsigned":    {"", "missing .signatures.json"},
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bundle.tar.gz")
			bundletest.WriteFile(t, file, string(bundletest.OPABuild(t, map[string]string{"decision.rego": denyPolicy("l1")}, "l1", tc.key)))
			c := cfg
			c.PolicyBundle = file
			p, err := New(context.Background(), &c, Options{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New: %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if info, _ := p.Info(context.Background()); info.BundleRevision != "l1" {
				t.Errorf("bundle revision %q", info.BundleRevision)
			}
		})
	}
}
