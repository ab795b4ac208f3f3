package pingemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// otherSubject is the sub userinfo answers with under Faults.UserinfoOtherSub.
var otherSubject = DefaultSubject("\x00someone-else")

// handleUserinfo answers the token's user claims. The access token is taken
// from the Authorization header only; one in the query or body is refused.
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("access_token") {
		bearerError(w, http.StatusBadRequest, "invalid_request", "access tokens in the query are not accepted; use the Authorization header")
		return
	}
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err == nil && r.PostForm.Has("access_token") {
			bearerError(w, http.StatusBadRequest, "invalid_request", "access tokens in the body are not accepted; use the Authorization header")
			return
		}
	}
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="userinfo"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_request", "a Bearer access token is required")
		return
	}
	token = strings.TrimSpace(token)

	s.mu.Lock()
	now := s.now()
	t, ok := s.tokens[token]
	if ok && now.After(t.expires) {
		delete(s.tokens, token)
		ok = false
	}
	var u User
	if ok {
		if p, found := s.users[t.username]; found {
			u = *p
			u.Groups = append([]string(nil), p.Groups...)
		} else {
			ok = false
		}
	}
	f := s.faults
	key, _ := s.keys.signingKey()
	s.mu.Unlock()
	if !ok {
		bearerError(w, http.StatusUnauthorized, "invalid_token", "the access token is unknown, expired or revoked")
		return
	}

	claims := userClaims(&u, t.scope, f)
	claims["sub"] = u.Subject
	if f.UserinfoOtherSub {
		claims["sub"] = otherSubject
	}
	if !f.SignedUserinfo {
		writeJSON(w, http.StatusOK, claims)
		return
	}
	claims["iss"] = s.Issuer()
	claims["aud"] = t.clientID
	claims["iat"] = now.Unix()
	jwt, err := signRS256(key, claims, true)
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/jwt")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(jwt))
}

// bearerError answers an RFC 6750 error with its WWW-Authenticate challenge.
func bearerError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="userinfo", error="`+code+`", error_description="`+desc+`"`)
	writeOAuthError(w, status, code, desc)
}

// ReleasedClaims returns the claims userinfo answers for a user whose
// sign-in asked for scope, groups shaped by the current faults, sub
// included, as a client decodes them from JSON; the ID token carries the
// same user claims.
func (s *Server) ReleasedClaims(username, scope string) (map[string]any, error) {
	s.mu.Lock()
	u, ok := s.users[username]
	var claims map[string]any
	if ok {
		claims = userClaims(u, scope, s.faults)
		claims["sub"] = u.Subject
	}
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("pingemu: unknown user %q", username)
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("pingemu: claims of %q: %w", username, err)
	}
	var out map[string]any
	err = json.Unmarshal(b, &out)
	return out, err
}
