package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/server"
	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/sso"
)

// pluginBinary is the plugin built once for the tests that start one.
var pluginBinary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pingauthz-server-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if pluginBinary, err = demo.BuildPlugin(context.Background(), dir, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// openServer opens a server with the real plugin against a Ping emulator;
// change adjusts the configuration first.
func openServer(t *testing.T, change func(*server.Config)) *server.Server {
	t.Helper()
	const secret = "server-test-secret-0123456789"
	idp, err := pingemu.Start(pingemu.Options{Clients: []pingemu.Client{{ID: "server-test", Secret: secret,
		RedirectURIs: []string{"http://127.0.0.1:8080" + host.CallbackPath}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Close() })
	logger, _ := testutil.Logger(t, "server")
	cfg := server.Config{
		DBPath:        filepath.Join(t.TempDir(), "pingauthz.db"),
		PluginPath:    pluginBinary,
		PluginEnv:     config.RequiredEnv(idp.AuthorizeURL(), idp.TokenURL(), "server-test", secret),
		SkipHostEnv:   true,
		PublicURL:     "http://127.0.0.1:8080",
		Logger:        logger,
		DirectoryPoll: -1,
	}
	if change != nil {
		change(&cfg)
	}
	srv, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// signedIn reports whether the home page shows token's session signed in.
func signedIn(t *testing.T, srv *server.Server, token string) bool {
	t.Helper()
	r := httptest.NewRequest("GET", "/api/me", nil)
	r.AddCookie(&http.Cookie{Name: "pingauthz_session", Value: token})
	w := httptest.NewRecorder()
	srv.Handler.ServeHTTP(w, r)
	return w.Code == http.StatusOK
}

// TestSessionIdle passes Config.SessionIdle to the store: a session in use
// lives on, one left alone for the idle timeout ends before its lifetime.
func TestSessionIdle(t *testing.T) {
	clock := testutil.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	srv := openServer(t, func(c *server.Config) {
		c.SessionIdle = 30 * time.Minute
		c.SessionTTL = 12 * time.Hour
		c.Now = clock.Now
	})
	ctx := context.Background()
	if err := srv.Store.AddCompany(ctx, "c1", "Acme"); err != nil {
		t.Fatal(err)
	}
	id := &sso.Identity{Issuer: "https://idp.example/as", Subject: "u1", UserID: "u1", Email: "ada@acme.com", Name: "Ada"}
	d := &sso.Decision{Allow: true, Signup: true, Company: "c1", Reasons: []string{sso.ReasonSignupDefaultCompany}}
	_, token, err := srv.Store.Login(ctx, sso.LoginState{ID: "s1", Expires: clock.Now().Add(10 * time.Minute)}, id, d, 12*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		clock.Advance(20 * time.Minute)
		if !signedIn(t, srv, token) {
			t.Fatalf("a session used every 20 minutes ended at %s", clock.Now())
		}
	}
	clock.Advance(31 * time.Minute)
	if signedIn(t, srv, token) {
		t.Fatal("a session unused for 31 minutes is still live with SessionIdle 30m")
	}
}
