package provider

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/plugin"
)

const (
	clientID     = "provider-test-client"
	clientSecret = "provider-test-secret-never-logged"
	redirect     = "http://127.0.0.1:8008/callback_ping"
)

// setup starts an emulator with alice and users and a Provider configured
// for it.
func setup(t *testing.T, edit func(*config.Config), users ...pingemu.User) (*Provider, *pingemu.Server, *testutil.SyncBuffer) {
	t.Helper()
	emu, err := pingemu.Start(pingemu.Options{
		Clients: []pingemu.Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirect}}},
		Users: append([]pingemu.User{{
			Username: "alice", Password: "pw",
			Claims: map[string]any{"email": "alice@acme.com", "email_verified": true, "name": "Alice"},
			Groups: []string{"ML Team"},
		}}, users...),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	cfg := config.Default()
	cfg.AuthorizeURL, cfg.AccessTokenURL = emu.AuthorizeURL(), emu.TokenURL()
	cfg.ClientID, cfg.ClientSecret = clientID, clientSecret
	cfg.Groups.Enabled = true
	if edit != nil {
		edit(&cfg)
	}
	logger, logs := testutil.Logger(t, "provider")
	p, err := New(context.Background(), &cfg, Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p, emu, logs
}

func directory() *sso.Directory {
	return &sso.Directory{
		Companies: map[string]sso.Company{"c1": {Name: "Acme", Groups: []string{"ML Team"}}},
		Whitelist: sso.Whitelist{Emails: map[string]sso.WhitelistEntry{"alice@acme.com": {Company: "c1", IsAdmin: true}}},
	}
}

func TestNewRejectsNilConfig(t *testing.T) {
	if _, err := New(context.Background(), nil, Options{}); err == nil || !strings.HasPrefix(err.Error(), "provider: ") {
		t.Errorf("error %v, want a provider error", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cfg := config.Default()
	cfg.ClientID, cfg.ClientSecret = clientID, clientSecret
	if _, err := New(context.Background(), &cfg, Options{}); err == nil {
		t.Error("a configuration without endpoints was accepted")
	}
}

func TestInfo(t *testing.T) {
	p, emu, _ := setup(t, nil)
	info, err := p.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Provider != config.Provider || info.CallbackPath != "/callback_ping" || info.PolicyRevision != p.policy.current().engine.Revision() {
		t.Errorf("Info = %+v", info)
	}
	if info.Config["authorize_url"] != emu.AuthorizeURL() {
		t.Errorf("Info.Config = %v", info.Config)
	}
	for k, v := range info.Config {
		if strings.Contains(v, clientSecret) {
			t.Errorf("Info.Config[%q] shows the secret", k)
		}
	}
	info.Config["authorize_url"] = "changed"
	again, _ := p.Info(context.Background())
	if again.Config["authorize_url"] != emu.AuthorizeURL() {
		t.Error("changing Info.Config changed the provider")
	}
}

func TestLoginAndDecide(t *testing.T) {
	p, emu, logs := setup(t, func(c *config.Config) { c.Debug = true; c.CodeChallenge = true })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.SetDirectory(ctx, directory()); err != nil {
		t.Fatal(err)
	}
	begun, err := p.Begin(ctx, &plugin.BeginRequest{RedirectURI: redirect, ReturnTo: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	cb, err := pingemu.Login(ctx, nil, begun.AuthURL, "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	var looked *sso.Identity
	done, err := p.Complete(ctx, &plugin.CompleteRequest{RedirectURI: redirect, SealedState: begun.SealedState, Query: first(cb.Query())},
		func(_ context.Context, id *sso.Identity) (*sso.User, error) {
			looked = id
			return nil, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if done.ReturnTo != "/x" || done.Identity.Email != "alice@acme.com" || done.Identity.Issuer != emu.Issuer() || done.Identity.Claims != nil {
		t.Errorf("Complete = %+v, want alice's identity without its claims", done)
	}
	if looked == nil || looked.UserID != done.Identity.UserID {
		t.Errorf("lookup got %+v, want alice's identity", looked)
	}
	d := done.Decision
	if !d.Allow || !d.Signup || d.Company != "c1" || d.Role == nil || *d.Role != "admin" || !slices.Equal(d.Groups, []string{"ML Team"}) {
		t.Errorf("decision %+v, want an admin sign-up into c1", d)
	}
	log := logs.String()
	for _, want := range []string{"decision", "reasons", d.Reasons[0], "directory set"} {
		if !strings.Contains(log, want) {
			t.Errorf("debug log lacks %q", want)
		}
	}
	for _, secret := range []string{clientSecret, query(cb, "code"), begun.SealedState} {
		if strings.Contains(log, secret) {
			t.Errorf("the log shows a secret value %.12q...", secret)
		}
	}
}

// TestCompleteDecidesWithTheLookedUpUser checks that Complete decides on the
// user its lookup returns, and decides nothing when the lookup fails.
func TestCompleteDecidesWithTheLookedUpUser(t *testing.T) {
	p, _, _ := setup(t, nil)
	ctx := context.Background()
	if err := p.SetDirectory(ctx, directory()); err != nil {
		t.Fatal(err)
	}
	login := func(lookup plugin.UserLookup) (*plugin.CompleteResponse, error) {
		begun, err := p.Begin(ctx, &plugin.BeginRequest{RedirectURI: redirect})
		if err != nil {
			t.Fatal(err)
		}
		cb, err := pingemu.Login(ctx, nil, begun.AuthURL, "alice", "pw")
		if err != nil {
			t.Fatal(err)
		}
		return p.Complete(ctx, &plugin.CompleteRequest{RedirectURI: redirect, SealedState: begun.SealedState, Query: first(cb.Query())}, lookup)
	}
	done, err := login(func(context.Context, *sso.Identity) (*sso.User, error) {
		return &sso.User{ID: "u1", Company: "c1", Role: "user"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := done.Decision; !d.Allow || d.Signup || !slices.Contains(d.Reasons, sso.ReasonExistingUser) || d.DecisionID == "" {
		t.Errorf("decision %+v, want an existing user's login with a decision id", d)
	}
	lookupErr := errors.New("store: down")
	if done, err := login(func(context.Context, *sso.Identity) (*sso.User, error) { return nil, lookupErr }); !errors.Is(err, lookupErr) || done != nil {
		t.Errorf("Complete with a failing lookup = %+v, %v; want the lookup's error", done, err)
	}
}

func TestCompleteErrorsAreLoginErrors(t *testing.T) {
	p, _, _ := setup(t, nil)
	_, err := p.Complete(context.Background(), &plugin.CompleteRequest{
		RedirectURI: redirect, SealedState: "garbage", Query: map[string]string{"state": "s", "code": "c"},
	}, newUser)
	var le *plugin.LoginError
	if !errors.As(err, &le) || le.Kind != plugin.KindInvalidState {
		t.Errorf("error %v, want an invalid_state LoginError", err)
	}
}

func TestDecideWithoutDebugLogsNoDecision(t *testing.T) {
	p, _, logs := setup(t, nil)
	if err := p.SetDirectory(context.Background(), directory()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Decide(context.Background(), &sso.Input{Identity: sso.Identity{Subject: "s", UserID: "s", Email: "x@y.z"}}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "reasons") {
		t.Errorf("a decision was logged without debug:\n%s", logs.String())
	}
}

func first(v url.Values) map[string]string {
	out := map[string]string{}
	for k, vs := range v {
		out[k] = vs[0]
	}
	return out
}

func query(u *url.URL, k string) string { return u.Query().Get(k) }

func TestNilRequests(t *testing.T) {
	p, _, _ := setup(t, nil)
	ctx := context.Background()
	_, errBegin := p.Begin(ctx, nil)
	_, errComplete := p.Complete(ctx, nil, newUser)
	_, errDecide := p.Decide(ctx, nil)
	for name, err := range map[string]error{
		"Begin": errBegin, "Complete": errComplete, "SetDirectory": p.SetDirectory(ctx, nil), "Decide": errDecide,
	} {
		var le *plugin.LoginError
		if !errors.As(err, &le) || le.Kind != plugin.KindInvalidInput {
			t.Errorf("%s(nil): %v, want an invalid_input LoginError", name, err)
		}
	}
}

// TestCloseStopsKeyRefresh: after Close, a login whose keys were never
// fetched fails as unavailable at once instead of starting a fetch.
func TestCloseStopsKeyRefresh(t *testing.T) {
	p, _, _ := setup(t, nil)
	ctx := context.Background()
	begun, err := p.Begin(ctx, &plugin.BeginRequest{RedirectURI: redirect})
	if err != nil {
		t.Fatal(err)
	}
	cb, err := pingemu.Login(ctx, nil, begun.AuthURL, "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = p.Complete(ctx, &plugin.CompleteRequest{RedirectURI: redirect, SealedState: begun.SealedState, Query: first(cb.Query())}, newUser)
	var le *plugin.LoginError
	if !errors.As(err, &le) || le.Kind != plugin.KindUnavailable || !strings.Contains(le.Message, "shutting down") {
		t.Fatalf("Complete after Close: %v, want unavailable, shutting down", err)
	}
}

// TestEmailFormsAgreeWithPolicy logs users in and decides on the identities
// the relying party built: look-alike addresses are denied as invalid, and a
// Unicode domain matches the whitelist entry stored in A-label form.
func TestEmailFormsAgreeWithPolicy(t *testing.T) {
	var users []pingemu.User
	for _, tc := range []struct{ user, email string }{
		{"dotted-i", "admİn@example.com"},
		{"kelvin", "\u212Aate@example.com"},
		{"idn", "user@bücher.example"},
	} {
		users = append(users, pingemu.User{Username: tc.user, Password: "pw",
			Claims: map[string]any{"email": tc.email, "email_verified": true, "name": tc.user}})
	}
	p, _, _ := setup(t, nil, users...)
	ctx := context.Background()
	if err := p.SetDirectory(ctx, &sso.Directory{
		Companies: map[string]sso.Company{"c1": {Name: "Acme"}},
		Whitelist: sso.Whitelist{Emails: map[string]sso.WhitelistEntry{
			"admin@example.com":          {Company: "c1", IsAdmin: true},
			"kate@example.com":           {Company: "c1", IsAdmin: true},
			"user@xn--bcher-kva.example": {Company: "c1"},
		}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user, email, reason string
		allow               bool
	}{
		{"dotted-i", "admİn@example.com", sso.ReasonInvalidEmail, false},
		{"kelvin", "\u212Aate@example.com", sso.ReasonInvalidEmail, false},
		{"idn", "user@xn--bcher-kva.example", "", true},
	} {
		t.Run(tc.user, func(t *testing.T) {
			begun, err := p.Begin(ctx, &plugin.BeginRequest{RedirectURI: redirect})
			if err != nil {
				t.Fatal(err)
			}
			cb, err := pingemu.Login(ctx, nil, begun.AuthURL, tc.user, "pw")
			if err != nil {
				t.Fatal(err)
			}
			done, err := p.Complete(ctx, &plugin.CompleteRequest{RedirectURI: redirect, SealedState: begun.SealedState, Query: first(cb.Query())}, newUser)
			if err != nil {
				t.Fatal(err)
			}
			if done.Identity.Email != tc.email {
				t.Errorf("identity email %q, want %q", done.Identity.Email, tc.email)
			}
			d := done.Decision
			if d.Allow != tc.allow || (tc.reason != "" && !slices.Contains(d.Reasons, tc.reason)) {
				t.Errorf("decision allow=%v reasons %q, want allow=%v with %q", d.Allow, d.Reasons, tc.allow, tc.reason)
			}
		})
	}
}

// newUser is the lookup of a first login: no user exists.
func newUser(context.Context, *sso.Identity) (*sso.User, error) { return nil, nil }
