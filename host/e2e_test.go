package host_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/store"
	"github.com/pingauthz/pingauthz/plugin/ping"
)

// site is a server built from the host package: the real plugin against a
// Ping emulator, a SQLite directory, and the login handlers.
type site struct {
	public string
	emu    *pingemu.Server
	plugin *host.Plugin
	store  *store.Store
}

func startSite(t *testing.T) *site {
	t.Helper()
	bin := host.BuildPluginForTest(t)
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	public := "http://" + ln.Addr().String()
	const secret = "e2e-client-secret-0123456789abcdef"
	emu, err := pingemu.Start(pingemu.Options{
		Clients: []pingemu.Client{{ID: "e2e", Secret: secret, RedirectURIs: []string{public + host.CallbackPath}}},
		Users: []pingemu.User{
			{Username: "alice", Password: "alice-pw", Groups: []string{"ML Team", "Admins"},
				Claims: map[string]any{"email": "alice@acme.com", "email_verified": true, "name": "Alice A"}},
			{Username: "carol", Password: "carol-pw",
				Claims: map[string]any{"email": "carol@other.com", "email_verified": true, "name": "Carol C"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })

	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "directory.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	for _, step := range []error{
		st.AddCompany(ctx, "c1", "Acme"),
		st.AddGroup(ctx, "c1", "ML Team"),
		st.AddGroup(ctx, "c1", "Data"),
		st.WhitelistAdd(ctx, "c1", "@acme.com", false),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}

	logger := hclog.New(&hclog.LoggerOptions{Name: "e2e", Output: io.Discard})
	p, err := host.Start(ctx, host.Config{
		PluginPath: bin,
		Env: []string{
			ping.EnvName("authorize_url") + "=" + emu.AuthorizeURL(),
			ping.EnvName("access_token_url") + "=" + emu.TokenURL(),
			ping.EnvName("groups__enabled") + "=true",
			ping.EnvName("groups__admins") + `=["Admins"]`,
			ping.SecureEnvName("client_id") + "=e2e",
			ping.SecureEnvName("client_secret") + "=" + secret,
		},
		SkipHostEnv: true,
		Logger:      logger,
		Directory:   st.Snapshot,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)

	h, err := host.NewHandler(host.HandlerConfig{
		Auth: p, Directory: st, PublicURL: public, Logger: logger, SessionTTL: time.Hour,
		OnDirectoryChange: func(ctx context.Context) { _ = p.PushDirectory(ctx) },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &site{public: public, emu: emu, plugin: p, store: st}
}

// browser is a cookie-keeping client that does not follow redirects.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login signs in through the site and returns the callback's response.
func (s *site) login(t *testing.T, hc *http.Client, user, password, returnTo string) *http.Response {
	t.Helper()
	resp, err := hc.Get(s.public + "/login/ping?return_to=" + url.QueryEscape(returnTo))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("/login/ping: status %d", resp.StatusCode)
	}
	back, err := pingemu.Login(context.Background(), hc, resp.Header.Get("Location"), user, password)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = hc.Get(back.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func me(t *testing.T, hc *http.Client, public string) (int, sso.Account) {
	t.Helper()
	resp, err := hc.Get(public + "/api/me")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a sso.Account
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, a
}

func TestEndToEndLogin(t *testing.T) {
	s := startSite(t)

	alice := browser(t)
	resp := s.login(t, alice, "alice", "alice-pw", "/projects")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/projects" {
		t.Fatalf("callback: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	code, a := me(t, alice, s.public)
	if code != http.StatusOK || a.Email != "alice@acme.com" || a.Company != "c1" || a.Role != "admin" ||
		!slices.Equal(a.Groups, []string{"ML Team"}) {
		t.Fatalf("/api/me: %d %+v", code, a)
	}

	carol := browser(t)
	resp = s.login(t, carol, "carol", "carol-pw", "/")
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "deny:not_whitelisted") {
		t.Fatalf("carol: status %d\n%s", resp.StatusCode, b)
	}
	if code, _ := me(t, carol, s.public); code != http.StatusUnauthorized {
		t.Fatalf("carol /api/me: %d", code)
	}

	// The plugin dies; the next login restarts it and still sees the directory.
	s.plugin.KillForTest(t)
	again := browser(t)
	if resp := s.login(t, again, "alice", "alice-pw", "/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login after a plugin crash: status %d", resp.StatusCode)
	}
	if s.plugin.Restarts() != 1 {
		t.Fatalf("restarts %d, want 1", s.plugin.Restarts())
	}

	// Logout ends the session.
	req, _ := http.NewRequest(http.MethodPost, s.public+"/logout", nil)
	req.Header.Set("Origin", s.public)
	resp, err := alice.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: status %d", resp.StatusCode)
	}
	if code, _ := me(t, alice, s.public); code != http.StatusUnauthorized {
		t.Fatalf("/api/me after logout: %d", code)
	}
}

func TestEndToEndPushAfterChange(t *testing.T) {
	s := startSite(t)
	ctx := context.Background()
	if err := s.store.WhitelistRemove(ctx, "@acme.com"); err != nil {
		t.Fatal(err)
	}
	if err := s.plugin.PushDirectory(ctx); err != nil {
		t.Fatal(err)
	}
	resp := s.login(t, browser(t), "alice", "alice-pw", "/")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403 once the whitelist entry is gone", resp.StatusCode)
	}
	users, err := s.store.Users(ctx)
	if err != nil || len(users) != 0 {
		t.Fatalf("users after a deny: %v %v", users, err)
	}
}
