package ping

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/plugin"
)

const (
	// testSecret is long enough for HS256 (32 bytes) and has characters
	// that need form encoding.
	testSecret   = "s3cret+value/with=odd&chars-and-enough-length"
	testClientID = "pingauthz-app"
	testRedirect = "http://127.0.0.1:9/callback_ping"
)

// newClock returns a settable clock, starting now, for the emulator and the relying party.
func newClock() *testutil.Clock { return testutil.NewClock(time.Now().Truncate(time.Second)) }

func testUsers() []pingemu.User {
	return []pingemu.User{
		{
			Username: "alice", Password: "alice-pw",
			Claims: map[string]any{
				"email": "alice@example.com", "email_verified": true, "name": "Alice Example",
				"given_name": "Alice", "family_name": "Example", "department": "ML",
			},
			Groups: []string{"ML Team", "Admins"},
		},
		{Username: "bob", Password: "bob-pw", Subject: "Bob-Mixed-Case-Sub", Claims: map[string]any{"email": "bob@example.com", "email_verified": "false"}},
	}
}

// envOpts shape one emulator + relying party pair.
type envOpts struct {
	flavor     pingemu.Flavor
	faults     pingemu.Faults
	clientAuth string           // emulator client's auth method
	clientPKCE pingemu.PKCEMode // emulator client's PKCE enforcement
	idTokenTTL time.Duration
	emuNow     func() time.Time
	users      []pingemu.User // added to testUsers()
	rpNow      func() time.Time
	exchangeTO time.Duration
	after      func(time.Duration) <-chan time.Time // the JWKS refresh timer
	// noClientTimeout gives the test's HTTP client no timeout of its own.
	noClientTimeout bool
	// defaultClient leaves Options.HTTPClient nil; rec then sees nothing.
	defaultClient bool
	logOutput     io.Writer
	mutate        func(cfg *config.Config, emu *pingemu.Server)
}

// testEnv is a running emulator and a relying party configured for it.
type testEnv struct {
	emu *pingemu.Server
	rp  *RelyingParty
	cfg *config.Config
	rec *recorder
}

func newTestEnv(t testing.TB, o envOpts) *testEnv {
	t.Helper()
	emu, err := pingemu.Start(pingemu.Options{
		Flavor: o.flavor,
		Clients: []pingemu.Client{{
			ID: testClientID, Secret: testSecret, RedirectURIs: []string{testRedirect},
			AuthMethod: o.clientAuth, PKCE: o.clientPKCE,
		}},
		Users:      append(testUsers(), o.users...),
		Faults:     o.faults,
		IDTokenTTL: o.idTokenTTL,
		Now:        o.emuNow,
	})
	if err != nil {
		t.Fatalf("pingemu.Start: %v", err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	cfg := config.Default()
	cfg.AuthorizeURL = emu.AuthorizeURL()
	cfg.AccessTokenURL = emu.TokenURL()
	cfg.ClientID = testClientID
	cfg.ClientSecret = testSecret
	cfg.Groups.Enabled = true
	if o.mutate != nil {
		o.mutate(&cfg, emu)
	}
	rec := &recorder{base: http.DefaultTransport}
	logger := hclog.NewNullLogger()
	if o.logOutput != nil {
		logger = hclog.New(&hclog.LoggerOptions{Name: "test", Level: hclog.Trace, Output: o.logOutput})
	}
	hc := &http.Client{Transport: rec, Timeout: 30 * time.Second}
	if o.noClientTimeout {
		hc.Timeout = 0
	}
	if o.defaultClient {
		hc = nil
	}
	rp := newRP(t, Options{
		Config:          &cfg,
		HTTPClient:      hc,
		Logger:          logger,
		Now:             o.rpNow,
		ExchangeTimeout: o.exchangeTO,
		after:           o.after,
	})
	return &testEnv{emu: emu, rp: rp, cfg: &cfg, rec: rec}
}

// newRP returns a relying party that is closed when the test ends.
func newRP(t testing.TB, opts Options) *RelyingParty {
	t.Helper()
	rp, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = rp.Close() })
	return rp
}

// begin starts a login and drives the emulator's login form; it returns the
// callback URL and the sealed state.
func (e *testEnv) begin(t testing.TB, user, returnTo string) (*url.URL, string) {
	t.Helper()
	authURL, sealed, err := e.rp.Begin(context.Background(), testRedirect, returnTo)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	cb, err := pingemu.Login(context.Background(), &http.Client{Timeout: 10 * time.Second}, authURL, user, user+"-pw")
	if err != nil {
		t.Fatalf("pingemu.Login: %v", err)
	}
	return cb, sealed
}

// login runs a whole login through the package-internal complete, which
// keeps the cause of a failure for errors.Is.
func (e *testEnv) login(t testing.TB, user string) (*sso.Identity, string, error) {
	t.Helper()
	cb, sealed := e.begin(t, user, "/dashboard?tab=1")
	id, st, err := e.rp.complete(context.Background(), testRedirect, sealed, cb.Query())
	return id, st.ReturnTo, err
}

// wantErr checks a failed login: no identity, the kind, and the cause.
func wantErr(t *testing.T, id *sso.Identity, err error, kind plugin.ErrorKind, cause error) {
	t.Helper()
	if id != nil {
		t.Fatalf("got identity %+v with error %v", id, err)
	}
	if err == nil {
		t.Fatalf("login succeeded, want %s", kind)
	}
	le := toLoginError(err)
	if le.Kind != kind {
		t.Fatalf("kind = %s (%v), want %s", le.Kind, err, kind)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Fatalf("error %v does not wrap %v", err, cause)
	}
	if le.Message == "" || strings.Contains(le.Message, testSecret) {
		t.Fatalf("bad user message %q", le.Message)
	}
}

// recorded is one request the relying party sent, with the answer.
type recorded struct {
	Method, URL string
	Header      http.Header
	Body        string
	Status      int
	RespBody    string
}

// recorder is an http.RoundTripper that keeps every exchange.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	reqs []recorded
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := recorded{Method: req.Method, URL: req.URL.String(), Header: req.Header.Clone()}
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		rec.Body = string(b)
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := r.base.RoundTrip(req)
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		rec.Status, rec.RespBody = resp.StatusCode, string(b)
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	return resp, err
}

// to returns the recorded exchanges with a URL starting with prefix.
func (r *recorder) to(prefix string) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recorded
	for _, x := range r.reqs {
		if strings.HasPrefix(x.URL, prefix) {
			out = append(out, x)
		}
	}
	return out
}

func containsParam(form, name string) bool {
	v, err := url.ParseQuery(form)
	return err == nil && v.Has(name)
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

type (
	cfgT          = config.Config
	pingemuServer = pingemu.Server
)

func pkceOn(c *config.Config, _ *pingemu.Server) { c.CodeChallenge = true }
