package pingemu

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/pingauthz/pingauthz/internal/testutil"
)

const (
	testSecret   = "s3cret+value/with=odd&chars"
	testRedirect = "http://127.0.0.1:9/callback"
	testVerifier = "dBjftJeZ4CVP-mJ92K7mKKpYp2Yc3Vz9NHz8fMy0aQXbR1wTg"
)

// newClock returns the tests' settable clock.
func newClock() *testutil.Clock {
	return testutil.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
}

func testUsers() []User {
	return []User{
		{
			Username: "alice", Password: "alice-pw",
			Claims: map[string]any{
				"email": "alice@example.com", "email_verified": true, "name": "Alice Example",
				"given_name": "Alice", "family_name": "Example", "department": "ML",
			},
			Groups: []string{"ML Team", "Admins"},
		},
		{Username: "bob", Password: "bob-pw", Subject: "bob-sub", Claims: map[string]any{"email": "bob@example.com"}},
	}
}

func testClient(id, method string, pkce PKCEMode) Client {
	return Client{ID: id, Secret: testSecret, RedirectURIs: []string{testRedirect}, AuthMethod: method, PKCE: pkce}
}

// startServer starts an emulator with test users and, when opts has none,
// a basic and a post client.
func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Clients == nil {
		opts.Clients = []Client{testClient("basic-app", AuthBasic, ""), testClient("post-app", AuthPost, "")}
	}
	if opts.Users == nil {
		opts.Users = testUsers()
	}
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// authRequestURL builds an authorization request URL.
func authRequestURL(s *Server, clientID string, extra url.Values) string {
	q := url.Values{
		"client_id": {clientID}, "redirect_uri": {testRedirect}, "response_type": {"code"},
		"scope": {"openid profile email"}, "state": {"st-123"}, "nonce": {"n-456"},
	}
	for k, v := range extra {
		if len(v) == 1 && v[0] == "" {
			delete(q, k)
			continue
		}
		q[k] = v
	}
	return s.AuthorizeURL() + "?" + q.Encode()
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// loginCode signs alice on and returns the code from the redirect.
func loginCode(t *testing.T, s *Server, clientID string, extra url.Values) string {
	t.Helper()
	target, err := Login(context.Background(), nil, authRequestURL(s, clientID, extra), "alice", "alice-pw")
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	q := target.Query()
	if q.Get("error") != "" {
		t.Fatalf("Login redirected with error %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("code") == "" {
		t.Fatalf("no code in %s", target)
	}
	return q.Get("code")
}

// tokenResult is a hand-read token endpoint answer.
type tokenResult struct {
	status int
	body   map[string]any
	header http.Header
}

func (r tokenResult) str(k string) string { s, _ := r.body[k].(string); return s }

// exchange redeems a code by hand with net/http, authenticating as method.
func exchange(t *testing.T, s *Server, clientID, secret, method string, form url.Values) tokenResult {
	t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {testRedirect}}
	for k, v := range form {
		f[k] = v
	}
	if method == AuthPost {
		f.Set("client_id", clientID)
		f.Set("client_secret", secret)
	}
	req, err := http.NewRequest(http.MethodPost, s.TokenURL(), strings.NewReader(f.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if method == AuthBasic {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	var body map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("token answer %d is not JSON: %q", resp.StatusCode, raw)
	}
	return tokenResult{status: resp.StatusCode, body: body, header: resp.Header}
}

// fetchJWKS reads the published keys.
func fetchJWKS(t *testing.T, s *Server) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(s.JWKSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	return set
}

// verifyJWT checks an RS256 JWT against the JWKS (by kid, or every key when the
// header has none) and returns its claims and header kid.
func verifyJWT(t *testing.T, s *Server, raw string) (map[string]any, string, error) {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, "", err
	}
	set := fetchJWKS(t, s)
	kid := jws.Signatures[0].Header.KeyID
	candidates := set.Keys
	if kid != "" {
		candidates = set.Key(kid)
	}
	if len(candidates) == 0 {
		return nil, kid, fmt.Errorf("no published key with kid %q", kid)
	}
	errs := []error{}
	for _, k := range candidates {
		payload, err := jws.Verify(k)
		if err == nil {
			var claims map[string]any
			if err := json.Unmarshal(payload, &claims); err != nil {
				return nil, kid, err
			}
			return claims, kid, nil
		}
		errs = append(errs, err)
	}
	return nil, kid, errors.Join(errs...)
}

// getUserinfo calls userinfo with a bearer token.
func getUserinfo(t *testing.T, s *Server, token string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.UserinfoURL(), nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}
