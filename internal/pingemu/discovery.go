package pingemu

import (
	"net/http"
	"sort"
)

// discovery is the OpenID provider metadata the emulator publishes.
type discovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	UserinfoSigningAlgValuesSupported []string `json:"userinfo_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	AuthorizationResponseIssParameter bool     `json:"authorization_response_iss_parameter_supported"`
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f := s.faults
	methods := s.authMethods()
	s.mu.Unlock()
	if f.NoDiscovery {
		http.NotFound(w, r)
		return
	}
	algs := []string{"RS256"}
	if f.HS256 {
		algs = append(algs, "HS256")
	}
	claims := []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "azp", "at_hash",
		"email", "email_verified", "name", "given_name", "family_name", "preferred_username", f.groupsClaim()}
	if s.flavor != PingFederate {
		claims = append(claims, "env", "org", "p1.region")
	}
	sort.Strings(claims)
	writeJSON(w, http.StatusOK, discovery{
		Issuer:                            s.Issuer(),
		AuthorizationEndpoint:             s.AuthorizeURL(),
		TokenEndpoint:                     s.TokenURL(),
		UserinfoEndpoint:                  s.UserinfoURL(),
		JWKSURI:                           s.JWKSURL(),
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		GrantTypesSupported:               []string{"authorization_code"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  algs,
		UserinfoSigningAlgValuesSupported: []string{"RS256"},
		TokenEndpointAuthMethodsSupported: methods,
		CodeChallengeMethodsSupported:     []string{"plain", "S256"},
		ScopesSupported:                   []string{"openid", "profile", "email", "address", "phone"},
		ClaimsSupported:                   claims,
		AuthorizationResponseIssParameter: true,
	})
}
