package pingemu

import (
	"encoding/json"
	"fmt"
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

// Endpoints are the URLs an emulator serves.
type Endpoints struct {
	Issuer, Authorize, Token, Userinfo, JWKS, Discovery string
}

// EndpointsAt returns the issuer and endpoint URLs an emulator of flavor
// serves at base (e.g. "http://127.0.0.1:9031"), without starting one.
// envID is the PingOne environment id ("" means DefaultEnvID); the other
// flavors ignore it.
func EndpointsAt(flavor Flavor, envID, base string) (Endpoints, error) {
	if flavor == "" {
		flavor = PingOne
	}
	if envID == "" {
		envID = DefaultEnvID
	}
	if err := checkFlavor(flavor, envID); err != nil {
		return Endpoints{}, err
	}
	p := func(e endpoint) string { return base + flavorPath(flavor, envID, e) }
	return Endpoints{
		Issuer:    base + issuerPath(flavor, envID),
		Authorize: p(epAuthorize),
		Token:     p(epToken),
		Userinfo:  p(epUserinfo),
		JWKS:      p(epJWKS),
		Discovery: p(epDiscovery),
	}, nil
}

// checkFlavor validates a flavor and a PingOne environment id.
func checkFlavor(flavor Flavor, envID string) error {
	switch flavor {
	case PingOne, PingOneCustomDomain, PingFederate:
	default:
		return fmt.Errorf("pingemu: flavor %q: want %q, %q or %q", flavor, PingOne, PingOneCustomDomain, PingFederate)
	}
	if !envIDPattern.MatchString(envID) {
		return fmt.Errorf("pingemu: Options.EnvID %q: want letters, digits, '-' or '_'", envID)
	}
	return nil
}

// issuerPath is the issuer's path under the base URL.
func issuerPath(flavor Flavor, envID string) string {
	switch flavor {
	case PingOne:
		return "/" + envID + "/as"
	case PingOneCustomDomain:
		return "/as"
	}
	return ""
}

// flavorPath returns an endpoint's path for a flavor.
func flavorPath(flavor Flavor, envID string, e endpoint) string {
	if flavor == PingFederate {
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
	p := issuerPath(flavor, envID)
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

// path returns an endpoint's path for the server's flavor.
func (s *Server) path(e endpoint) string { return flavorPath(s.flavor, s.envID, e) }

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
