package pingemu

import (
	"encoding/json"
	"net/http"
)

type endpoint int

const (
	epAuthorize endpoint = iota
	epToken
	epUserinfo
	epJWKS
	epDiscovery
)

// path returns an endpoint's path for the server's flavor.
func (s *Server) path(e endpoint) string {
	if s.flavor == PingOne {
		p := "/" + s.envID + "/as"
		switch e {
		case epAuthorize:
			return p + "/authorize"
		case epToken:
			return p + "/token"
		case epUserinfo:
			return p + "/userinfo"
		case epJWKS:
			return p + "/jwks"
		default:
			return p + "/.well-known/openid-configuration"
		}
	}
	switch e {
	case epAuthorize:
		return "/as/authorization.oauth2"
	case epToken:
		return "/as/token.oauth2"
	case epUserinfo:
		return "/idp/userinfo.openid"
	case epJWKS:
		return "/pf/JWKS"
	default:
		return "/.well-known/openid-configuration"
	}
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+s.path(epDiscovery), s.handleDiscovery)
	mux.HandleFunc("GET "+s.path(epJWKS), s.handleJWKS)
	mux.HandleFunc("GET "+s.path(epAuthorize), s.handleAuthorizeGet)
	mux.HandleFunc("POST "+s.path(epAuthorize), s.handleAuthorizePost)
	mux.HandleFunc("POST "+s.path(epToken), s.handleToken)
	mux.HandleFunc("GET "+s.path(epUserinfo), s.handleUserinfo)
	mux.HandleFunc("POST "+s.path(epUserinfo), s.handleUserinfo)
	return mux
}

// writeJSON answers v as JSON with no caching.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// oauthError is an RFC 6749 error body.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, oauthError{Error: code, Description: desc})
}
