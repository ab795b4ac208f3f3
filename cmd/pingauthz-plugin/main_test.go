package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/plugin"
	"github.com/pingauthz/pingauthz/plugin/ping"
)

// binary is the plugin built once for the package's tests and benchmarks.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pingauthz-plugin-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if binary, err = demo.BuildPlugin(context.Background(), dir, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// hostLogger returns a host logger whose output is shown when tb fails.
func hostLogger(tb testing.TB) hclog.Logger {
	logger, _ := testutil.Logger(tb, "host")
	return logger
}

// emulator holds a loopback Ping emulator and the environment pointing the
// plugin at it.
type emulator struct {
	srv      *pingemu.Server
	env      []string
	redirect string
}

const (
	clientID     = "pingauthz-test-client"
	clientSecret = "s3cr3t-value-that-must-never-show-up"
)

func startEmulator(tb testing.TB, extra ...string) *emulator {
	tb.Helper()
	redirect := "http://127.0.0.1:8008/callback_ping"
	srv, err := pingemu.Start(pingemu.Options{
		Flavor:  pingemu.PingOne,
		Clients: []pingemu.Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirect}}},
		Users: []pingemu.User{{
			Username: "alice", Password: "alice-pw",
			Claims: map[string]any{"email": "alice@acme.com", "email_verified": true, "name": "Alice A"},
			Groups: []string{"ML Team"},
		}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	env := append([]string{
		ping.EnvName("authorize_url") + "=" + srv.AuthorizeURL(),
		ping.EnvName("access_token_url") + "=" + srv.TokenURL(),
		ping.SecureEnvName("client_id") + "=" + clientID,
		ping.SecureEnvName("client_secret") + "=" + clientSecret,
	}, extra...)
	return &emulator{srv: srv, env: env, redirect: redirect}
}

// launch starts the plugin binary through go-plugin with env as its whole
// environment and returns the client and its Authenticator.
func launch(tb testing.TB, env []string, logger hclog.Logger) (*goplugin.Client, plugin.Authenticator) {
	tb.Helper()
	client := goplugin.NewClient(clientConfig(tb, env, logger))
	tb.Cleanup(client.Kill)
	a, err := plugin.Dispense(client)
	if err != nil {
		tb.Fatal(err)
	}
	return client, a
}

func clientConfig(tb testing.TB, env []string, logger hclog.Logger) *goplugin.ClientConfig {
	tb.Helper()
	sum, err := checksum(binary)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(binary)
	cmd.Env = env
	cfg := plugin.ClientConfig(cmd, sum, logger)
	cfg.SkipHostEnv = true
	return cfg
}

func checksum(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

func TestRunByHand(t *testing.T) {
	cmd := exec.Command(binary)
	cmd.Env = []string{}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("run by hand: %v, want exit status 1", err)
	}
	if got := strings.TrimSpace(stderr.String()); got != notLaunched {
		t.Errorf("stderr %q, want %q", got, notLaunched)
	}
}

func TestConfigErrorExitsNonZero(t *testing.T) {
	cmd := exec.Command(binary)
	cmd.Env = []string{
		plugin.Handshake.MagicCookieKey + "=" + plugin.Handshake.MagicCookieValue,
		ping.SecureEnvName("client_id") + "=x",
		ping.SecureEnvName("client_secret") + "=" + clientSecret,
		ping.EnvName("groups__enabled") + "=maybe",
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("plugin with a bad configuration: %v, want exit status 1", err)
	}
	log := stderr.String()
	for _, want := range []string{
		`"@level":"error"`,
		ping.EnvName("authorize_url"),
		ping.EnvName("access_token_url"),
		ping.EnvName("groups__enabled"),
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, clientSecret) {
		t.Errorf("the log shows the client secret:\n%s", log)
	}
}

func TestConfigErrorThroughGoPlugin(t *testing.T) {
	// The host sees a start failure, not a hang.
	client := goplugin.NewClient(clientConfig(t, []string{ping.EnvName("debug") + "=true"}, hostLogger(t)))
	defer client.Kill()
	if _, err := client.Client(); err == nil {
		t.Fatal("a plugin with no configuration started")
	}
}

func TestChecksumMismatchRefused(t *testing.T) {
	emu := startEmulator(t)
	cmd := exec.Command(binary)
	cmd.Env = emu.env
	cfg := plugin.ClientConfig(cmd, make([]byte, sha256.Size), hostLogger(t))
	client := goplugin.NewClient(cfg)
	defer client.Kill()
	if _, err := client.Client(); !errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
		t.Fatalf("error %v, want %v", err, goplugin.ErrChecksumsDoNotMatch)
	}
}

func TestInfoOverRealPlugin(t *testing.T) {
	emu := startEmulator(t, ping.EnvName("groups__enabled")+"=true")
	_, a := launch(t, emu.env, hostLogger(t))
	info, err := a.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Provider != "ping" || info.CallbackPath != "/callback_ping" || info.PolicyRevision == "" {
		t.Errorf("Info = %+v", info)
	}
	if info.Config["authorize_url"] != emu.srv.AuthorizeURL() || info.Config["groups.enabled"] != "true" {
		t.Errorf("Info.Config = %v, want the effective configuration", info.Config)
	}
	for k, v := range info.Config {
		if strings.Contains(v, clientSecret) {
			t.Errorf("Info.Config[%q] shows the client secret", k)
		}
	}
}
