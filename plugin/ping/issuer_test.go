package ping

import (
	"fmt"
	"testing"
)

func TestDeriveIssuer(t *testing.T) {
	for _, tc := range []struct {
		name, authorize, clientID, want string
	}{
		{"pingone-com", "https://auth.pingone.com/5f1c1a7e-2b3d-4c8e-9a0f-6d2e8b4c1a90/as/authorize", "app", "https://auth.pingone.com/5f1c1a7e-2b3d-4c8e-9a0f-6d2e8b4c1a90/as"},
		{"pingone-eu", "https://auth.pingone.eu/env-1/as/authorize", "app", "https://auth.pingone.eu/env-1/as"},
		{"pingone-asia", "https://auth.pingone.asia/env-1/as/authorize", "app", "https://auth.pingone.asia/env-1/as"},
		{"pingone-com-au", "https://auth.pingone.com.au/env-1/as/authorize?prompt=login", "app", "https://auth.pingone.com.au/env-1/as"},
		{"pingone-custom-domain", "https://login.example.com/as/authorize", "app", "https://login.example.com/as"},
		{"pingone-trailing-slash", "https://auth.pingone.ca/env-1/as/authorize/", "app", "https://auth.pingone.ca/env-1/as"},
		{"pingfederate", "https://pf.example.com/as/authorization.oauth2", "app", "https://pf.example.com"},
		{"pingfederate-port", "https://pf.example.com:9031/as/authorization.oauth2", "app", "https://pf.example.com:9031"},
		{"pingfederate-path-prefix", "https://idp.example.com:8443/pingfed/runtime/as/authorization.oauth2", "app", "https://idp.example.com:8443/pingfed/runtime"},
		{"pingfederate-upper-host", "HTTPS://PF.Example.COM/as/authorization.oauth2", "app", "https://pf.example.com"},
		{"p14e", "https://sso.connect.pingidentity.com/sso/as/authorization.oauth2", "b9e7c6d4-client", "https://sso.connect.pingidentity.com/b9e7c6d4-client"},
		{"unknown-path", "https://idp.example.com/oauth2/authorize", "app", ""},
		{"relative", "/as/authorize", "app", ""},
		{"p14e-without-client", "https://sso.connect.pingidentity.com/sso/as/authorization.oauth2", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DeriveIssuer(tc.authorize, tc.clientID)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("DeriveIssuer(%q) = %q, want an error", tc.authorize, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("DeriveIssuer(%q) = %q, %v; want %q", tc.authorize, got, err, tc.want)
			}
		})
	}
}

func TestSameEndpoint(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"https://pf.example.com/as/token.oauth2", "https://PF.example.com:443/as/token.oauth2/", true},
		{"http://127.0.0.1:80/x", "http://127.0.0.1/x", true},
		{"https://pf.example.com/as/token.oauth2", "https://pf.example.com:9031/as/token.oauth2", false},
		{"https://pf.example.com/as/token.oauth2", "http://pf.example.com/as/token.oauth2", false},
		{"https://pf.example.com/As/token.oauth2", "https://pf.example.com/as/token.oauth2", false},
		{"", "", false},
	} {
		if got := sameEndpoint(tc.a, tc.b); got != tc.want {
			t.Errorf("sameEndpoint(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func ExampleDeriveIssuer() {
	for _, u := range []string{
		"https://auth.pingone.eu/0a1b2c3d/as/authorize",
		"https://pf.example.com:9031/as/authorization.oauth2",
		"https://sso.connect.pingidentity.com/sso/as/authorization.oauth2",
	} {
		iss, _ := DeriveIssuer(u, "my-client")
		fmt.Println(iss)
	}
	// Output:
	// https://auth.pingone.eu/0a1b2c3d/as
	// https://pf.example.com:9031
	// https://sso.connect.pingidentity.com/my-client
}
