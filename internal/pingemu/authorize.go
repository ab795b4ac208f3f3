package pingemu

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pingauthz/pingauthz/internal/config"
)

// authParams are the authorization request parameters carried through the
// login form, in the order they appear there.
var authParams = []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "login_hint", "prompt"}

// authRequest is a parsed authorization request.
type authRequest struct {
	values url.Values // only authParams, single-valued
}

func (a authRequest) get(k string) string { return a.values.Get(k) }

// pkceMethod is the request's code_challenge_method; with a challenge and no
// method it is "plain", as Ping does.
func (a authRequest) pkceMethod() string {
	method := a.get("code_challenge_method")
	if a.get("code_challenge") != "" && method == "" {
		return "plain"
	}
	return method
}

// authzError is a rejected authorization request. Redirectable errors go back
// to the client; the others are shown on an error page.
type authzError struct {
	code, desc string
	redirect   bool
}

// pkceValue is RFC 7636's code_challenge / code_verifier syntax.
var pkceValue = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// checkRedirectURI accepts absolute URIs without a fragment.
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("redirect URI %q is not an absolute URL", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("redirect URI %q has a fragment", raw)
	}
	return nil
}

// redirectMatches reports whether a requested redirect URI is the
// registered one: the same string, or, for a registered http URI on a
// loopback host without a port, the same URI with any port (RFC 8252
// section 7.3, for native apps and command line tools).
func redirectMatches(registered, requested string) bool {
	if registered == requested {
		return true
	}
	r, err := url.Parse(registered)
	if err != nil || r.Scheme != "http" || r.Port() != "" || !config.IsLoopback(r.Hostname()) {
		return false
	}
	q, err := url.Parse(requested)
	if err != nil || q.Port() == "" || strings.Contains(requested, "#") || q.User != nil {
		return false
	}
	return q.Scheme == r.Scheme && q.Hostname() == r.Hostname() && q.EscapedPath() == r.EscapedPath() &&
		q.RawQuery == r.RawQuery && q.Opaque == "" && r.User == nil
}

// parseAuthRequest validates an authorization request against the clients.
func (s *Server) parseAuthRequest(v url.Values) (authRequest, Client, *authzError) {
	a := authRequest{values: url.Values{}}
	for _, k := range authParams {
		if val := v.Get(k); val != "" {
			a.values.Set(k, val)
		}
	}
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(v[k]) > 1 {
			return a, Client{}, &authzError{code: "invalid_request", desc: "parameter " + k + " given more than once"}
		}
	}
	s.mu.Lock()
	client, ok := s.clients[a.get("client_id")]
	s.mu.Unlock()
	switch {
	case a.get("client_id") == "":
		return a, Client{}, &authzError{code: "invalid_request", desc: "client_id is missing"}
	case !ok:
		return a, Client{}, &authzError{code: "invalid_client", desc: fmt.Sprintf("unknown client_id %q", a.get("client_id"))}
	case a.get("redirect_uri") == "":
		return a, client, &authzError{code: "invalid_request", desc: "redirect_uri is missing"}
	case !slices.ContainsFunc(client.RedirectURIs, func(r string) bool { return redirectMatches(r, a.get("redirect_uri")) }):
		return a, client, &authzError{code: "invalid_request", desc: fmt.Sprintf("redirect_uri %q is not registered for client %q", a.get("redirect_uri"), client.ID)}
	}
	bad := func(code, desc string) (authRequest, Client, *authzError) {
		return a, client, &authzError{code: code, desc: desc, redirect: true}
	}
	for _, k := range authParams {
		if len(v[k]) > 1 {
			return bad("invalid_request", "parameter "+k+" given more than once")
		}
	}
	if rt := a.get("response_type"); rt != "code" {
		if rt == "" {
			return bad("invalid_request", "response_type is missing")
		}
		return bad("unsupported_response_type", fmt.Sprintf("response_type %q is not supported; use code", rt))
	}
	if !slices.Contains(strings.Fields(a.get("scope")), "openid") {
		return bad("invalid_scope", "scope must contain openid")
	}
	challenge, method := a.get("code_challenge"), a.pkceMethod()
	if challenge == "" && method != "" {
		return bad("invalid_request", "code_challenge_method without code_challenge")
	}
	if challenge != "" {
		if method != "plain" && method != "S256" {
			return bad("invalid_request", fmt.Sprintf("code_challenge_method %q is not supported", method))
		}
		if !pkceValue.MatchString(challenge) {
			return bad("invalid_request", "code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
		}
	}
	switch client.PKCE {
	case PKCERequired:
		if challenge == "" {
			return bad("invalid_request", "PKCE is required: code_challenge is missing")
		}
	case PKCES256Required:
		if challenge == "" || method != "S256" {
			return bad("invalid_request", "PKCE with S256 is required")
		}
	}
	return a, client, nil
}

func (s *Server) handleAuthorizeGet(w http.ResponseWriter, r *http.Request) {
	a, client, aerr := s.parseAuthRequest(r.URL.Query())
	if aerr != nil {
		s.authorizeFailed(w, r, a, aerr)
		return
	}
	s.startSignOn(w, r, a, client)
}

// startSignOn answers a valid authorization request with the login form, or
// with an error redirect for prompt=none and Faults.CallbackError.
func (s *Server) startSignOn(w http.ResponseWriter, r *http.Request, a authRequest, client Client) {
	if slices.Contains(strings.Fields(a.get("prompt")), "none") {
		// There is no sign-on session to reuse.
		s.authorizeFailed(w, r, a, &authzError{code: "login_required", desc: "prompt=none but the user is not signed on", redirect: true})
		return
	}
	if f := s.Faults(); f.CallbackError != "" {
		s.redirectToClient(w, r, a.get("redirect_uri"), url.Values{
			"error":             {f.CallbackError},
			"error_description": {"the provider reported " + f.CallbackError},
			"state":             nonEmpty(a.get("state")),
		})
		return
	}
	s.renderLogin(w, loginView{ClientID: client.ID, Username: a.get("login_hint"), Hidden: a.hidden()})
}

func (s *Server) handleAuthorizePost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, http.StatusBadRequest, "invalid_request", "the sign-on form could not be read")
		return
	}
	a, client, aerr := s.parseAuthRequest(r.PostForm)
	if aerr != nil {
		s.authorizeFailed(w, r, a, aerr)
		return
	}
	if !r.PostForm.Has("username") && !r.PostForm.Has("password") {
		// An authorization request sent by POST (OIDC Core 3.1.2.1).
		s.startSignOn(w, r, a, client)
		return
	}
	username, password := r.PostForm.Get("username"), r.PostForm.Get("password")
	s.mu.Lock()
	u, ok := s.users[username]
	okPassword := ok && subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) == 1
	s.mu.Unlock()
	if !okPassword {
		s.renderLogin(w, loginView{ClientID: client.ID, Username: username, Hidden: a.hidden(),
			Error: "Invalid username or password."})
		return
	}
	code, err := s.newCode(a, username)
	if err != nil {
		s.renderError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	s.redirectToClient(w, r, a.get("redirect_uri"), url.Values{"code": {code}, "state": nonEmpty(a.get("state"))})
}

// authorizeFailed redirects a redirectable error to the client and shows the others.
func (s *Server) authorizeFailed(w http.ResponseWriter, r *http.Request, a authRequest, e *authzError) {
	if !e.redirect {
		s.renderError(w, http.StatusBadRequest, e.code, e.desc)
		return
	}
	s.redirectToClient(w, r, a.get("redirect_uri"), url.Values{
		"error": {e.code}, "error_description": {e.desc}, "state": nonEmpty(a.get("state")),
	})
}

// redirectToClient sends the browser to a registered redirect URI with params
// and the issuer (RFC 9207) added to its query.
func (s *Server) redirectToClient(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	u, err := url.Parse(redirectURI)
	if err != nil { // registered URIs were checked at registration
		s.renderError(w, http.StatusInternalServerError, "server_error", "bad redirect URI")
		return
	}
	q := u.Query()
	for k, v := range params {
		if len(v) > 0 {
			q[k] = v
		}
	}
	q.Set("iss", s.Issuer())
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (a authRequest) hidden() []hiddenField {
	var out []hiddenField
	for _, k := range authParams {
		if v := a.get(k); v != "" {
			out = append(out, hiddenField{Name: k, Value: v})
		}
	}
	return out
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// authCode is an issued authorization code.
type authCode struct {
	clientID, redirectURI, scope, nonce string
	challenge, method                   string // method is "plain" or "S256" when challenge is set
	username, sid                       string
	authTime, expires                   time.Time
	used                                bool
	tokens                              []string // access tokens issued with it, revoked on reuse
}

// newCode stores a single-use code for a signed-on user.
func (s *Server) newCode(a authRequest, username string) (string, error) {
	code, err := randomToken()
	if err != nil {
		return "", err
	}
	sid, err := randomToken()
	if err != nil {
		return "", err
	}
	method := a.pkceMethod()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	s.codes[code] = &authCode{
		clientID: a.get("client_id"), redirectURI: a.get("redirect_uri"), scope: a.get("scope"), nonce: a.get("nonce"),
		challenge: a.get("code_challenge"), method: method, username: username, sid: sid[:22],
		authTime: now, expires: now.Add(codeTTL),
	}
	return code, nil
}

// sweep drops expired codes and access tokens; s.mu must be held.
func (s *Server) sweep(now time.Time) {
	for k, c := range s.codes {
		if now.After(c.expires) {
			delete(s.codes, k)
		}
	}
	for k, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, k)
		}
	}
}

// randomToken returns 256 random bits, base64url encoded.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("pingemu: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
