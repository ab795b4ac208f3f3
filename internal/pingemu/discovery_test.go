package pingemu

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"testing"
)

func getDiscovery(t *testing.T, s *Server) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(s.DiscoveryURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, doc
}

func TestDiscovery(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		discovery string // path
		paths     map[string]string
		methods   []any
		algs      []any
		p1Claims  bool
	}{
		{
			name:      "pingone",
			opts:      Options{Flavor: PingOne, EnvID: "env-1"},
			discovery: "/env-1/as/.well-known/openid-configuration",
			paths: map[string]string{
				"issuer": "/env-1/as", "authorization_endpoint": "/env-1/as/authorize", "token_endpoint": "/env-1/as/token",
				"userinfo_endpoint": "/env-1/as/userinfo", "jwks_uri": "/env-1/as/jwks",
			},
			methods:  []any{"client_secret_basic", "client_secret_post"},
			algs:     []any{"RS256"},
			p1Claims: true,
		},
		{
			name:      "pingone custom domain",
			opts:      Options{Flavor: PingOneCustomDomain, EnvID: "env-1"},
			discovery: "/as/.well-known/openid-configuration",
			paths: map[string]string{
				"issuer": "/as", "authorization_endpoint": "/as/authorize", "token_endpoint": "/as/token",
				"userinfo_endpoint": "/as/userinfo", "jwks_uri": "/as/jwks",
			},
			methods:  []any{"client_secret_basic", "client_secret_post"},
			algs:     []any{"RS256"},
			p1Claims: true,
		},
		{
			name:      "pingfederate",
			opts:      Options{Flavor: PingFederate, Clients: []Client{testClient("a", AuthPost, "")}},
			discovery: "/.well-known/openid-configuration",
			paths: map[string]string{
				"issuer": "", "authorization_endpoint": "/as/authorization.oauth2", "token_endpoint": "/as/token.oauth2",
				"userinfo_endpoint": "/idp/userinfo.openid", "jwks_uri": "/pf/JWKS",
			},
			methods: []any{"client_secret_post"},
			algs:    []any{"RS256"},
		},
		{
			name:      "hs256 and no clients",
			opts:      Options{Flavor: PingFederate, Clients: []Client{}, Faults: Faults{HS256: true}},
			discovery: "/.well-known/openid-configuration",
			paths:     map[string]string{"issuer": "", "jwks_uri": "/pf/JWKS"},
			methods:   []any{"client_secret_basic", "client_secret_post"},
			algs:      []any{"RS256", "HS256"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, tc.opts)
			if s.DiscoveryURL() != s.URL()+tc.discovery {
				t.Fatalf("DiscoveryURL = %q", s.DiscoveryURL())
			}
			status, doc := getDiscovery(t, s)
			if status != 200 {
				t.Fatalf("status %d", status)
			}
			eps, err := EndpointsAt(s.Flavor(), s.EnvID(), s.URL())
			if err != nil {
				t.Fatal(err)
			}
			if want := (Endpoints{Issuer: s.Issuer(), Authorize: s.AuthorizeURL(), Token: s.TokenURL(),
				Userinfo: s.UserinfoURL(), JWKS: s.JWKSURL(), Discovery: s.DiscoveryURL()}); eps != want {
				t.Errorf("EndpointsAt = %+v, want %+v", eps, want)
			}
			for k, p := range tc.paths {
				if doc[k] != s.URL()+p {
					t.Errorf("%s = %v, want %s", k, doc[k], s.URL()+p)
				}
			}
			want := map[string]any{
				"response_types_supported":                       []any{"code"},
				"subject_types_supported":                        []any{"public"},
				"code_challenge_methods_supported":               []any{"plain", "S256"},
				"token_endpoint_auth_methods_supported":          tc.methods,
				"id_token_signing_alg_values_supported":          tc.algs,
				"authorization_response_iss_parameter_supported": true,
			}
			for k, v := range want {
				if !reflect.DeepEqual(doc[k], v) {
					t.Errorf("%s = %v, want %v", k, doc[k], v)
				}
			}
			scopes, _ := doc["scopes_supported"].([]any)
			claims, _ := doc["claims_supported"].([]any)
			if !slices.Contains(scopes, any("openid")) || !slices.Contains(claims, any("groups")) || !slices.Contains(claims, any("email")) {
				t.Errorf("scopes %v claims %v", scopes, claims)
			}
			if slices.Contains(claims, any("p1.region")) != tc.p1Claims {
				t.Errorf("p1.region in claims_supported = %v, want %v", !tc.p1Claims, tc.p1Claims)
			}
			// The endpoints published are the ones served.
			for _, k := range []string{"jwks_uri"} {
				resp, err := http.Get(doc[k].(string))
				if err != nil || resp.StatusCode != 200 {
					t.Errorf("GET %s: %v %v", k, err, resp)
				}
				if resp != nil {
					resp.Body.Close()
				}
			}
		})
	}
}

func TestDiscoveryFaults(t *testing.T) {
	s := startServer(t, Options{})
	s.SetFaults(Faults{NoDiscovery: true})
	if status, _ := getDiscovery(t, s); status != http.StatusNotFound {
		t.Errorf("NoDiscovery: status %d, want 404", status)
	}
	s.SetFaults(Faults{GroupsClaim: "memberOf"})
	_, doc := getDiscovery(t, s)
	if claims, _ := doc["claims_supported"].([]any); !slices.Contains(claims, any("memberOf")) {
		t.Errorf("claims_supported %v lacks the groups claim memberOf", claims)
	}
}
