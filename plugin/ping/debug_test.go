package ping

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/testutil"
)

// TestDebugLogHasNoSecrets runs debug logins (a good one with signed
// userinfo, then failing ones) and checks the log shows every step but no
// secret, code, token or signature.
func TestDebugLogHasNoSecrets(t *testing.T) {
	var logs testutil.SyncBuffer
	e := newTestEnv(t, envOpts{
		faults:     pingemu.Faults{SignedUserinfo: true},
		clientAuth: AuthClientSecretBasic,
		logOutput:  &logs,
		mutate: func(c *config.Config, _ *pingemu.Server) {
			c.Debug = true
			c.CodeChallenge = true
		},
	})
	var codes []string
	run := func() error {
		cb, sealed := e.begin(t, "alice", "/")
		codes = append(codes, cb.Query().Get("code"))
		_, err := e.rp.Complete(context.Background(), testRedirect, sealed, cb.Query())
		return err
	}
	if err := run(); err != nil {
		t.Fatal(err)
	}
	e.emu.SetFaults(pingemu.Faults{WrongNonce: true})
	if err := run(); err == nil {
		t.Fatal("wrong nonce accepted")
	}
	e.emu.SetFaults(pingemu.Faults{TokenStatus: 400})
	if err := run(); err == nil {
		t.Fatal("token error accepted")
	}

	secrets := map[string]string{
		"client secret":              testSecret,
		"form-encoded client secret": url.QueryEscape(testSecret),
		"basic credentials":          base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(testClientID) + ":" + url.QueryEscape(testSecret))),
	}
	for i, c := range codes {
		if c == "" {
			t.Fatalf("login %d had no code", i)
		}
		secrets["code"+string(rune('0'+i))] = c
	}
	for i, r := range e.rec.to(e.emu.TokenURL()) {
		var tr map[string]any
		if json.Unmarshal([]byte(r.RespBody), &tr) != nil || r.Status != 200 {
			continue
		}
		n := string(rune('0' + i))
		secrets["access token "+n] = tr["access_token"].(string)
		if rt, ok := tr["refresh_token"].(string); ok {
			secrets["refresh token "+n] = rt
		}
		parts := strings.Split(tr["id_token"].(string), ".")
		secrets["id token signature "+n] = parts[2]
		secrets["id token "+n] = tr["id_token"].(string)
	}
	for _, r := range e.rec.to(e.emu.UserinfoURL()) {
		if parts := strings.Split(r.RespBody, "."); len(parts) == 3 {
			secrets["userinfo signature"] = parts[2]
		}
	}
	if len(secrets) < 8 {
		t.Fatalf("collected only %d secrets", len(secrets))
	}
	out := logs.String()
	for name, v := range secrets {
		if strings.Contains(out, v) {
			t.Errorf("the debug log contains the %s", name)
		}
	}
	for _, want := range []string{"step=discovery", "step=begin", "step=jwks", "step=exchange", "step=id_token",
		"step=verify", "step=userinfo_claims", "step=userinfo", "step=complete", "elapsed=", "department", "alice@example.com",
		"nonce mismatch", "invalid_request"} {
		if !strings.Contains(out, want) {
			t.Errorf("the debug log lacks %q", want)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("log:\n%s", out)
	}
}

// TestNoDebugLogsNoClaims checks that without debug no step or claim is
// logged.
func TestNoDebugLogsNoClaims(t *testing.T) {
	var logs testutil.SyncBuffer
	e := newTestEnv(t, envOpts{logOutput: &logs})
	if _, _, err := e.login(t, "alice"); err != nil {
		t.Fatal(err)
	}
	if out := logs.String(); strings.Contains(out, "sso debug") || strings.Contains(out, "alice@example.com") {
		t.Fatalf("log without debug:\n%s", out)
	}
}
