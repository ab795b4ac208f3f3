package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/internal/decisionlog/dltest"
	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/plugin/ping"
)

// Over the real plugin binary, the decision of a login's Complete has a
// decision_id that reaches the host,
// and the same id is in the "decision log" line relayed to the host's log,
// in the JSON-lines file and, uploaded when the host ends the plugin, at
// the collector. The event's input has no claims (the default mask).
func TestDecisionLogOverRealPlugin(t *testing.T) {
	col := dltest.New(t)
	file := filepath.Join(t.TempDir(), "decisions.jsonl")
	emu := startEmulator(t,
		ping.EnvName("decision_log__console")+"=true",
		ping.EnvName("decision_log__file")+"="+file,
		ping.EnvName("decision_log__url")+"="+col.URL,
		ping.EnvName("decision_log__server_id")+"=replica-3")
	logger, logs := testutil.Logger(t, "host")
	client, a := launch(t, emu.env, logger)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, done := loginAlice(ctx, t, a, emu)
	d := done.Decision
	if d.DecisionID == "" {
		t.Fatal("the decision has no decision_id")
	}
	// Ending the plugin uploads what its buffer holds and flushes its log.
	client.Kill()

	if !strings.Contains(logs.String(), "decision log") || !strings.Contains(logs.String(), d.DecisionID) {
		t.Errorf("the host log has no decision log line for %s:\n%s", d.DecisionID, logs.String())
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var e map[string]any
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	identity := e["input"].(map[string]any)["identity"].(map[string]any)
	if e["decision_id"] != d.DecisionID || e["labels"].(map[string]any)["id"] != "replica-3" ||
		identity["email"] != "alice@acme.com" || identity["claims"] != nil {
		t.Errorf("file event %v", e)
	}
	if n := col.Counts()[d.DecisionID]; n != 1 {
		t.Errorf("the collector got the event %d times", n)
	}
}
