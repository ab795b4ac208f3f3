package pingemu

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStartValidation(t *testing.T) {
	good := testClient("app", "", "")
	tests := []struct {
		name string
		opts Options
		err  string // substring; "" means success
	}{
		{name: "defaults", opts: Options{}},
		{name: "localhost", opts: Options{Addr: "localhost:0"}},
		{name: "ipv4 loopback range", opts: Options{Addr: "127.0.0.2:0"}, err: ""},
		{name: "all interfaces", opts: Options{Addr: ":0"}, err: "not a loopback address"},
		{name: "unspecified ip", opts: Options{Addr: "0.0.0.0:0"}, err: "not a loopback address"},
		{name: "host name", opts: Options{Addr: "example.com:80"}, err: "not a loopback address"},
		{name: "no port", opts: Options{Addr: "127.0.0.1"}, err: "Options.Addr"},
		{name: "flavor", opts: Options{Flavor: "okta"}, err: `flavor "okta"`},
		{name: "env id", opts: Options{EnvID: "a/b"}, err: "Options.EnvID"},
		{name: "ttl", opts: Options{IDTokenTTL: -time.Second}, err: "Options.IDTokenTTL"},
		{name: "client without id", opts: Options{Clients: []Client{{Secret: "x", RedirectURIs: []string{testRedirect}}}}, err: "empty ID"},
		{name: "duplicate client", opts: Options{Clients: []Client{good, good}}, err: `client "app" registered twice`},
		{name: "public client", opts: Options{Clients: []Client{{ID: "app", RedirectURIs: []string{testRedirect}}}}, err: "Secret is empty"},
		{name: "no redirect uri", opts: Options{Clients: []Client{{ID: "app", Secret: "x"}}}, err: "RedirectURIs is empty"},
		{name: "relative redirect uri", opts: Options{Clients: []Client{{ID: "app", Secret: "x", RedirectURIs: []string{"/cb"}}}}, err: "not an absolute URL"},
		{name: "fragment", opts: Options{Clients: []Client{{ID: "app", Secret: "x", RedirectURIs: []string{testRedirect + "#f"}}}}, err: "fragment"},
		{name: "auth method", opts: Options{Clients: []Client{{ID: "app", Secret: "x", RedirectURIs: []string{testRedirect}, AuthMethod: "private_key_jwt"}}}, err: "AuthMethod"},
		{name: "pkce mode", opts: Options{Clients: []Client{{ID: "app", Secret: "x", RedirectURIs: []string{testRedirect}, PKCE: "S256"}}}, err: "PKCE"},
		{name: "user", opts: Options{Users: []User{{Username: "a"}}}, err: "Options.Users"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Start(tc.opts)
			if s != nil {
				defer s.Close()
			}
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(s.URL(), "http://127.0.0.") && !strings.HasPrefix(s.URL(), "http://[::1]") {
					t.Errorf("URL %s", s.URL())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "pingemu: ") {
				t.Fatalf("err = %v, want one containing %q", err, tc.err)
			}
		})
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// Concurrent logins, fault changes and key rotation keep every flow intact
// (run with -race).
func TestConcurrentFlows(t *testing.T) {
	s := startServer(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 12 {
		wg.Go(func() {
			switch i % 4 {
			case 0:
				s.SetFaults(Faults{GroupsShape: GroupsString})
				errs <- s.SetUserGroups("alice", []string{"g"})
			case 1:
				_, err := s.RotateKey()
				errs <- err
			default:
				errs <- flowOnce(t.Context(), s)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// flowOnce runs a login and token exchange without the testing helpers, so
// it may run on any goroutine.
func flowOnce(ctx context.Context, s *Server) error {
	q := url.Values{"client_id": {"post-app"}, "redirect_uri": {testRedirect}, "response_type": {"code"}, "scope": {"openid"}}
	target, err := Login(ctx, nil, s.AuthorizeURL()+"?"+q.Encode(), "alice", "alice-pw")
	if err != nil {
		return err
	}
	resp, err := http.PostForm(s.TokenURL(), url.Values{
		"grant_type": {"authorization_code"}, "code": {target.Query().Get("code")}, "redirect_uri": {testRedirect},
		"client_id": {"post-app"}, "client_secret": {testSecret},
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || body.IDToken == "" {
		return fmt.Errorf("token: status %d, %v", resp.StatusCode, err)
	}
	return nil
}

func TestAddClient(t *testing.T) {
	s := startServer(t, Options{Flavor: PingFederate, EnvID: "ignored"})
	if s.Flavor() != PingFederate || s.EnvID() != "ignored" {
		t.Errorf("Flavor %q EnvID %q", s.Flavor(), s.EnvID())
	}
	if err := s.AddClient(testClient("late", AuthPost, PKCES256Required)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddClient(testClient("late", AuthPost, "")); err == nil {
		t.Error("AddClient accepted a duplicate")
	}
	code := loginCode(t, s, "late", url.Values{"code_challenge": {s256(testVerifier)}, "code_challenge_method": {"S256"}})
	if res := exchange(t, s, "late", testSecret, AuthPost, url.Values{"code": {code}, "code_verifier": {testVerifier}}); res.status != 200 {
		t.Errorf("token for the added client: %d %v", res.status, res.body)
	}
}

// Expired codes and access tokens are dropped from memory.
func TestSweep(t *testing.T) {
	clk := newClock()
	s := startServer(t, Options{Now: clk.Now})
	_, _ = issueIDToken(t, s, Faults{})
	_ = loginCode(t, s, "basic-app", nil)
	clk.Advance(accessTokenTTL + time.Second)
	_ = loginCode(t, s, "basic-app", nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.codes) != 1 || len(s.tokens) != 0 {
		t.Errorf("%d codes and %d tokens kept, want 1 and 0", len(s.codes), len(s.tokens))
	}
}

func TestEndpointsAtValidation(t *testing.T) {
	if _, err := EndpointsAt("okta", "", "http://127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), `flavor "okta"`) {
		t.Errorf("EndpointsAt(okta) error %v", err)
	}
	if _, err := EndpointsAt(PingOne, "bad/env", "http://127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "EnvID") {
		t.Errorf("EndpointsAt(bad env) error %v", err)
	}
	eps, err := EndpointsAt("", "", "http://127.0.0.1:1")
	if err != nil || eps.Issuer != "http://127.0.0.1:1/"+DefaultEnvID+"/as" {
		t.Errorf("EndpointsAt defaults = %+v, %v", eps, err)
	}
}

func TestGroupDN(t *testing.T) {
	for name, want := range map[string]string{
		"ML Team":   "CN=ML Team,OU=Groups,DC=example,DC=com",
		"R&D, Labs": `CN=R&D\, Labs,OU=Groups,DC=example,DC=com`,
		"#hash":     `CN=\#hash,OU=Groups,DC=example,DC=com`,
	} {
		if got := GroupDN(name); got != want {
			t.Errorf("GroupDN(%q) = %q, want %q", name, got, want)
		}
	}
}
