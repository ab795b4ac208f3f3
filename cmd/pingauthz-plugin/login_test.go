package main

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/plugin"
	"github.com/pingauthz/pingauthz/plugin/ping"
)

// acme is the directory the tests push: one company with one group, and
// its email domain on the whitelist.
func acme() *sso.Directory {
	return &sso.Directory{
		Companies: map[string]sso.Company{"c1": {Name: "Acme", Groups: []string{"ML Team", "Ops"}}},
		Whitelist: sso.Whitelist{Domains: map[string]sso.WhitelistEntry{"acme.com": {Company: "c1"}}},
	}
}

func verified(b bool) *bool { return &b }

func TestDecideOverRealPlugin(t *testing.T) {
	emu := startEmulator(t, ping.EnvName("groups__enabled")+"=true")
	_, a := launch(t, emu.env, hostLogger(t))
	ctx := context.Background()
	if err := a.SetDirectory(ctx, acme()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                string
		in                  *sso.Input
		allow, signup, sync bool
		company             string
		groups              []string
	}{
		{"whitelisted domain signs up", &sso.Input{Identity: sso.Identity{
			Issuer: emu.srv.Issuer(), Subject: "s1", UserID: "s1", Email: "alice@acme.com",
			EmailVerified: verified(true), Groups: []string{"ML Team", "Elsewhere"},
		}}, true, true, true, "c1", []string{"ML Team"}},
		{"unverified email does not sign up", &sso.Input{Identity: sso.Identity{
			Issuer: emu.srv.Issuer(), Subject: "s2", UserID: "s2", Email: "eve@acme.com", EmailVerified: verified(false),
		}}, false, false, false, "", nil},
		{"unknown domain does not sign up", &sso.Input{Identity: sso.Identity{
			Issuer: emu.srv.Issuer(), Subject: "s3", UserID: "s3", Email: "bob@other.org", EmailVerified: verified(true),
		}}, false, false, false, "", nil},
		{"existing user logs in", &sso.Input{
			Identity: sso.Identity{Issuer: emu.srv.Issuer(), Subject: "s4", UserID: "s4", Email: "bob@other.org", Groups: []string{"Ops"}},
			User:     &sso.User{ID: "u4", Company: "c1", Role: "user"},
		}, true, false, true, "c1", []string{"Ops"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := a.Decide(ctx, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allow != tt.allow || len(d.Reasons) == 0 {
				t.Fatalf("decision %+v, want allow=%v with reasons", d, tt.allow)
			}
			if !tt.allow {
				return
			}
			if d.Signup != tt.signup || d.Company != tt.company || d.SyncGroups != tt.sync || !slices.Equal(d.Groups, tt.groups) {
				t.Errorf("decision %+v, want signup=%v company=%q sync_groups=%v groups=%v",
					d, tt.signup, tt.company, tt.sync, tt.groups)
			}
		})
	}
}

func TestLoginOverRealPlugin(t *testing.T) {
	emu := startEmulator(t, ping.EnvName("groups__enabled")+"=true", ping.EnvName("code_challenge")+"=true")
	_, a := launch(t, emu.env, hostLogger(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, req, done := loginAlice(ctx, t, a, emu)
	id := done.Identity
	sub, _ := emu.srv.Subject("alice")
	if done.ReturnTo != "/projects" || id.Issuer != emu.srv.Issuer() || id.Subject != sub || id.Email != "alice@acme.com" ||
		id.EmailVerified == nil || !*id.EmailVerified || id.Name != "Alice A" || !slices.Equal(id.Groups, []string{"ML Team"}) {
		t.Errorf("Complete = %+v", done)
	}
	if id.Claims != nil {
		t.Errorf("the host got the claims %v; they stay in the plugin", id.Claims)
	}
	if d := done.Decision; !d.Allow || !d.Signup || d.Company != "c1" || !slices.Equal(d.Groups, []string{"ML Team"}) || d.DecisionID == "" {
		t.Errorf("decision %+v, want a sign-up into c1 with ML Team and a decision id", d)
	}

	// The code is single-use at the provider: a replay is an invalid_state
	// LoginError (the host's directory refuses the state itself).
	_, err := a.Complete(ctx, req, firstLogin)
	var le *plugin.LoginError
	if !errors.As(err, &le) || le.Kind != plugin.KindInvalidState {
		t.Errorf("replayed Complete: %v, want an invalid_state LoginError", err)
	}
}

func TestConcurrentCallsOverRealPlugin(t *testing.T) {
	emu := startEmulator(t, ping.EnvName("groups__enabled")+"=true")
	_, a := launch(t, emu.env, hostLogger(t))
	ctx := context.Background()
	if err := a.SetDirectory(ctx, acme()); err != nil {
		t.Fatal(err)
	}
	// More callers than the plugin's handler pool, mixed with directory
	// pushes: every decision is still the one its input calls for.
	const callers = 40
	errs := make(chan error, callers)
	for i := range callers {
		go func() {
			email := "bob@other.org"
			if i%2 == 0 {
				email = "alice@acme.com"
			}
			if i%10 == 0 {
				errs <- a.SetDirectory(ctx, acme())
				return
			}
			d, err := a.Decide(ctx, &sso.Input{Identity: sso.Identity{Subject: "s", UserID: "s", Email: email}})
			if err == nil && d.Allow != (i%2 == 0) {
				err = errors.New("decision " + strings.Join(d.Reasons, ",") + " for " + email)
			}
			errs <- err
		}()
	}
	for range callers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// compactJWS matches the header and payload of a compact JWT or JWS.
var compactJWS = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.`)

// TestDebugLogOverRealPlugin runs a login with debug=true through the real
// binary: the host's log shows every step with its timing, the claims and
// the decision with its reasons, and no secret, code, state or token.
func TestDebugLogOverRealPlugin(t *testing.T) {
	emu := startEmulator(t, ping.EnvName("debug")+"=true", ping.EnvName("groups__enabled")+"=true",
		ping.EnvName("code_challenge")+"=true")
	logger, logs := testutil.Logger(t, "host")
	client, a := launch(t, emu.env, logger)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	begun, req, done := loginAlice(ctx, t, a, emu)
	d := done.Decision
	// The plugin's log lines reach the host asynchronously; stopping the
	// plugin flushes them. (The nonce is no secret: the ID token claims
	// are logged with it.)
	client.Kill()

	log := logs.String()
	for _, want := range []string{
		"step=discovery", "step=begin", "step=jwks", "step=exchange", "step=id_token", "step=verify",
		"step=userinfo", "step=complete", "elapsed=", "alice@acme.com", "directory set", "decision",
		d.Reasons[0],
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the host log lacks %q", want)
		}
	}
	u, _ := url.Parse(begun.AuthURL)
	for name, secret := range map[string]string{
		"client secret":  clientSecret,
		"code":           req.Query["code"],
		"state":          req.Query["state"],
		"PKCE challenge": u.Query().Get("code_challenge"),
		"sealed state":   begun.SealedState,
	} {
		if secret == "" {
			t.Fatalf("the login had no %s", name)
		}
		if strings.Contains(log, secret) {
			t.Errorf("the host log shows the %s", name)
		}
	}
	if m := compactJWS.FindString(log); m != "" {
		t.Errorf("the host log shows a token: %.40s...", m)
	}
}

// loginAlice pushes acme's directory, signs alice on at the emulator from a
// Begin returning to /projects, and completes the login. It returns the
// Begin answer, the Complete request (for replays) and the Complete answer,
// decided as alice's first login.
func loginAlice(ctx context.Context, t *testing.T, a plugin.Authenticator, emu *emulator) (
	*plugin.BeginResponse, *plugin.CompleteRequest, *plugin.CompleteResponse) {
	t.Helper()
	if err := a.SetDirectory(ctx, acme()); err != nil {
		t.Fatal(err)
	}
	begun, err := a.Begin(ctx, &plugin.BeginRequest{RedirectURI: emu.redirect, ReturnTo: "/projects"})
	if err != nil {
		t.Fatal(err)
	}
	callback, err := pingemu.Login(ctx, nil, begun.AuthURL, "alice", "alice-pw")
	if err != nil {
		t.Fatal(err)
	}
	query := map[string]string{}
	for k, v := range callback.Query() {
		query[k] = v[0]
	}
	req := &plugin.CompleteRequest{RedirectURI: emu.redirect, SealedState: begun.SealedState, Query: query}
	done, err := a.Complete(ctx, req, firstLogin)
	if err != nil {
		t.Fatal(err)
	}
	return begun, req, done
}

// firstLogin is the user lookup of a first login: no user exists.
func firstLogin(context.Context, *sso.Identity) (*sso.User, error) { return nil, nil }
