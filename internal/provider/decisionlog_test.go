package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/decisionlog/dltest"
)

func loginInput(i int) *sso.Input {
	verified := true
	return &sso.Input{Identity: sso.Identity{
		Issuer: "https://issuer.example", Subject: fmt.Sprintf("s-%d", i), UserID: fmt.Sprintf("s-%d", i),
		Email: "alice@acme.com", EmailVerified: &verified, Name: "Alice", Groups: []string{"ML Team"},
		Claims: map[string]any{"sub": fmt.Sprintf("s-%d", i), "phone_number": "+1 555 0100"},
	}}
}

// A burst of 1,000 decisions reaches the collector, each exactly once,
// although the collector was down for part of the burst; each event
// carries the decision_id the decision returned.
func TestDecisionLogBurstReachesCollector(t *testing.T) {
	col := dltest.New(t)
	cfg := config.Default()
	cfg.AuthorizeURL, cfg.AccessTokenURL = "http://127.0.0.1:1/env/as/authorize", "http://127.0.0.1:1/env/as/token"
	cfg.ClientID, cfg.ClientSecret = clientID, clientSecret
	cfg.DecisionLog = config.DecisionLog{URL: col.URL, ServerID: "replica-7"}
	p, err := New(context.Background(), &cfg, Options{DecisionLogMaxDelay: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	ctx := context.Background()
	if err := p.SetDirectory(ctx, directory()); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{} // decision_id -> reasons
	decide := func(n int) {
		for range n {
			d, err := p.Decide(ctx, loginInput(len(want)))
			if err != nil {
				t.Fatal(err)
			}
			if _, dup := want[d.DecisionID]; dup || d.DecisionID == "" {
				t.Fatalf("decision id %q repeated or empty", d.DecisionID)
			}
			want[d.DecisionID] = d.Reasons
		}
	}
	decide(250)
	col.Wait(t, time.Minute, "the first upload", func(ev []dltest.Event, _ int) bool { return len(ev) > 0 })
	col.SetMode(dltest.Unavailable)
	decide(250)
	col.Wait(t, time.Minute, "a refused upload", func(_ []dltest.Event, refused int) bool { return refused > 0 })
	col.SetMode(dltest.Broken)
	decide(250)
	col.Wait(t, time.Minute, "a broken upload", func(_ []dltest.Event, refused int) bool { return refused > 1 })
	col.SetMode(dltest.Up)
	decide(250)
	col.Wait(t, 2*time.Minute, "1,000 events", func(ev []dltest.Event, _ int) bool { return len(ev) >= len(want) })

	counts := col.Counts()
	if len(counts) != len(want) {
		t.Errorf("%d distinct events, want %d", len(counts), len(want))
	}
	revision := p.policy.current().engine.Revision()
	for _, e := range col.Events() {
		id := e.ID()
		if counts[id] != 1 {
			t.Errorf("event %s arrived %d times", id, counts[id])
		}
		reasons, ok := want[id]
		if !ok {
			t.Fatalf("event %s was not a decision", id)
		}
		got, _ := json.Marshal(e["result"].(map[string]any)["reasons"])
		wantJSON, _ := json.Marshal(reasons)
		if string(got) != string(wantJSON) || e["path"] != decisionPath || e["revision"] != revision ||
			e["labels"].(map[string]any)["id"] != "replica-7" {
			t.Fatalf("event %v", e)
		}
		if _, ok := e["input"].(map[string]any)["identity"].(map[string]any)["claims"]; ok {
			t.Fatalf("the default mask let the claims through: %v", e)
		}
	}
	info, _ := p.Info(ctx)
	if s := info.Stats; s.DecisionLogEvents != 1000 || s.DecisionLogUploadFailures == 0 || s.DecisionLogDropped != 0 {
		t.Errorf("stats %+v", s)
	}
}

// A mask.rego in the policy directory replaces the default mask, and a
// reload changes it.
func TestReloadChangesMask(t *testing.T) {
	dir := t.TempDir()
	mask := func(paths ...string) string {
		src := "package system.log\n\n"
		for _, p := range paths {
			src += fmt.Sprintf("mask contains %q\n\n", p)
		}
		return src
	}
	write := func(src string) {
		tmp := filepath.Join(dir, ".mask.rego.tmp")
		if err := os.WriteFile(tmp, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "mask.rego")); err != nil {
			t.Fatal(err)
		}
	}
	write(mask("/input/identity/claims"))
	file := filepath.Join(t.TempDir(), "decisions.jsonl")
	r := newReloader()
	p := newReloadingProvider(t, dir, r, func(c *config.Config) { c.DecisionLog.File = file })
	ctx := context.Background()
	if _, err := p.Decide(ctx, loginInput(1)); err != nil {
		t.Fatal(err)
	}
	write(mask("/input/identity/claims", "/input/identity/email"))
	if err := r.reload(t); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Decide(ctx, loginInput(2)); err != nil {
		t.Fatal(err)
	}
	events := dltest.ReadFile(t, file)
	if len(events) != 2 {
		t.Fatalf("%d events, want 2", len(events))
	}
	for i, wantEmail := range []bool{true, false} {
		identity := events[i]["input"].(map[string]any)["identity"].(map[string]any)
		if _, has := identity["email"]; has != wantEmail {
			t.Errorf("event %d: email logged %v, want %v: %v", i, has, wantEmail, identity)
		}
		if events[i]["revision"] == nil {
			t.Errorf("event %d has no revision", i)
		}
	}
	if events[0]["revision"] == events[1]["revision"] {
		t.Error("the reload did not change the revision in the events")
	}
}
