package pingemu

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// accessToken is an issued opaque access token.
type accessToken struct {
	clientID, username, scope string
	expires                   time.Time
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	IDToken     string `json:"id_token"`
	Scope       string `json:"scope"`
}

// tokenError is an RFC 6749 section 5.2 error with its HTTP status.
type tokenError struct {
	status     int
	code, desc string
}

func (e *tokenError) write(w http.ResponseWriter) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
	}
	writeOAuthError(w, e.status, e.code, e.desc)
}

func invalidGrant(desc string) *tokenError {
	return &tokenError{status: http.StatusBadRequest, code: "invalid_grant", desc: desc}
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	f := s.Faults()
	if f.TokenDelay > 0 {
		t := time.NewTimer(f.TokenDelay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if f.TokenStatus != 0 {
		code := "server_error"
		if f.TokenStatus < 500 {
			code = "invalid_request"
		}
		writeOAuthError(w, f.TokenStatus, code, fmt.Sprintf("emulated token endpoint failure (HTTP %d)", f.TokenStatus))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the request body could not be read")
		return
	}
	client, terr := s.authenticateClient(r)
	if terr != nil {
		terr.write(w)
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "authorization_code" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported; use authorization_code", gt))
		return
	}
	resp, terr := s.redeemCode(client, r.PostForm)
	if terr != nil {
		terr.write(w)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// authenticateClient checks the client's credentials and that it used its
// registered method. Failing here leaves the code unused, so a client may retry
// with another method.
func (s *Server) authenticateClient(r *http.Request) (Client, *tokenError) {
	unauthorized := func(desc string) (Client, *tokenError) {
		return Client{}, &tokenError{status: http.StatusUnauthorized, code: "invalid_client", desc: desc}
	}
	basicID, basicSecret, hasBasic := r.BasicAuth()
	postID, postSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	var id, secret, method string
	switch {
	case hasBasic && postSecret != "":
		return Client{}, &tokenError{status: http.StatusBadRequest, code: "invalid_request", desc: "more than one client authentication method used"}
	case hasBasic:
		// RFC 6749 section 2.3.1: both parts are form-encoded before base64.
		id, secret, method = formUnescape(basicID), formUnescape(basicSecret), AuthBasic
		if postID != "" && postID != id {
			return Client{}, &tokenError{status: http.StatusBadRequest, code: "invalid_request", desc: "client_id in the body differs from the Authorization header"}
		}
	case postSecret != "":
		id, secret, method = postID, postSecret, AuthPost
	default:
		return unauthorized("client authentication is required")
	}
	s.mu.Lock()
	client, ok := s.clients[id]
	s.mu.Unlock()
	if !ok {
		return unauthorized(fmt.Sprintf("unknown client %q", id))
	}
	if subtle.ConstantTimeCompare([]byte(client.Secret), []byte(secret)) != 1 {
		return unauthorized("client secret does not match")
	}
	if method != client.AuthMethod {
		return unauthorized(fmt.Sprintf("client %q must authenticate with %s, not %s", id, client.AuthMethod, method))
	}
	return client, nil
}

func formUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// redeemCode spends a code once and issues the tokens. Reusing a code revokes
// the access tokens it produced.
func (s *Server) redeemCode(client Client, form url.Values) (*tokenResponse, *tokenError) {
	code := form.Get("code")
	if code == "" {
		return nil, &tokenError{status: http.StatusBadRequest, code: "invalid_request", desc: "code is missing"}
	}
	at, err := randomToken()
	if err != nil {
		return nil, &tokenError{status: http.StatusInternalServerError, code: "server_error", desc: err.Error()}
	}

	s.mu.Lock()
	now := s.now()
	c, ok := s.codes[code]
	if !ok || now.After(c.expires) {
		s.mu.Unlock()
		return nil, invalidGrant("authorization code is unknown or expired")
	}
	if c.clientID != client.ID {
		s.mu.Unlock()
		return nil, invalidGrant("authorization code was issued to another client")
	}
	if c.used && !s.faults.ReusableCodes {
		for _, t := range c.tokens {
			delete(s.tokens, t)
		}
		s.mu.Unlock()
		return nil, invalidGrant("authorization code was already used")
	}
	c.used = true
	if terr := checkCodeBinding(c, form); terr != nil {
		s.mu.Unlock()
		return nil, terr
	}
	u, ok := s.users[c.username]
	if !ok {
		s.mu.Unlock()
		return nil, invalidGrant("the user no longer exists")
	}
	user := *u
	user.Groups = append([]string(nil), u.Groups...)
	f := s.faults
	key, _ := s.keys.signingKey()
	s.tokens[at] = &accessToken{clientID: client.ID, username: c.username, scope: c.scope, expires: now.Add(accessTokenTTL)}
	c.tokens = append(c.tokens, at)
	g := grant{client: client, scope: c.scope, nonce: c.nonce, sid: c.sid, authTime: c.authTime}
	s.mu.Unlock()

	idt, err := s.idToken(g, &user, f, key, at, now)
	if err != nil {
		return nil, &tokenError{status: http.StatusInternalServerError, code: "server_error", desc: err.Error()}
	}
	return &tokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int(accessTokenTTL / time.Second),
		IDToken: idt, Scope: c.scope}, nil
}

// checkCodeBinding checks redirect_uri and the PKCE verifier against the code.
func checkCodeBinding(c *authCode, form url.Values) *tokenError {
	if got := form.Get("redirect_uri"); got != c.redirectURI {
		return invalidGrant(fmt.Sprintf("redirect_uri %q does not match the authorization request", got))
	}
	verifier := form.Get("code_verifier")
	if c.challenge == "" {
		if verifier != "" {
			return invalidGrant("code_verifier sent but the authorization request had no code_challenge")
		}
		return nil
	}
	if verifier == "" {
		return invalidGrant("code_verifier is missing")
	}
	if !pkceValue.MatchString(verifier) {
		return invalidGrant("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
	}
	want := verifier
	if c.method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(c.challenge)) != 1 {
		return invalidGrant(fmt.Sprintf("code_verifier does not match the %s code_challenge", c.method))
	}
	return nil
}
