package pingemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// issueIDToken runs a full login for alice with the faults set and returns the raw ID token.
func issueIDToken(t *testing.T, s *Server, f Faults) (idToken, accessToken string) {
	t.Helper()
	s.SetFaults(f)
	code := loginCode(t, s, "basic-app", nil)
	res := exchange(t, s, "basic-app", testSecret, AuthBasic, url.Values{"code": {code}})
	if res.status != 200 {
		t.Fatalf("token: %d %v", res.status, res.body)
	}
	return res.str("id_token"), res.str("access_token")
}

// jwtParts decodes a compact JWT's header and claims without verifying.
func jwtParts(t *testing.T, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %q", raw)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

func TestIDTokenFaults(t *testing.T) {
	clk := newClock()
	s := startServer(t, Options{Now: clk.Now})
	now := float64(clk.Now().Unix())
	tests := []struct {
		name     string
		faults   Faults
		verifies bool // RS256 signature checks out against the JWKS
		check    func(t *testing.T, header, claims map[string]any, raw string)
	}{
		{name: "none", verifies: true, check: func(t *testing.T, h, c map[string]any, _ string) {
			if h["alg"] != "RS256" || h["kid"] == nil {
				t.Errorf("header %v", h)
			}
		}},
		{name: "bad signature", faults: Faults{BadSignature: true}, check: func(t *testing.T, h, c map[string]any, _ string) {
			if c["sub"] != DefaultSubject("alice") {
				t.Errorf("claims changed: %v", c)
			}
		}},
		{name: "omit kid", faults: Faults{OmitKid: true}, verifies: true, check: func(t *testing.T, h, _ map[string]any, _ string) {
			if _, ok := h["kid"]; ok {
				t.Errorf("header %v has a kid", h)
			}
		}},
		{name: "alg none", faults: Faults{AlgNone: true}, check: func(t *testing.T, h, _ map[string]any, raw string) {
			if h["alg"] != "none" || !strings.HasSuffix(raw, ".") {
				t.Errorf("header %v, token %q", h, raw)
			}
		}},
		{name: "hs256", faults: Faults{HS256: true}, check: func(t *testing.T, h, _ map[string]any, raw string) {
			i := strings.LastIndexByte(raw, '.')
			mac := hmac.New(sha256.New, []byte(testSecret))
			mac.Write([]byte(raw[:i]))
			if h["alg"] != "HS256" || raw[i+1:] != base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) {
				t.Errorf("not HS256 with the client secret: %v", h)
			}
		}},
		{name: "wrong issuer", faults: Faults{WrongIssuer: true}, verifies: true, check: func(t *testing.T, _, c map[string]any, _ string) {
			if c["iss"] == s.Issuer() {
				t.Errorf("iss = %v", c["iss"])
			}
		}},
		{name: "wrong audience", faults: Faults{WrongAudience: true}, verifies: true, check: func(t *testing.T, _, c map[string]any, _ string) {
			if c["aud"] == "basic-app" {
				t.Errorf("aud = %v", c["aud"])
			}
		}},
		{name: "aud array with azp", faults: Faults{AudArrayWithAzp: true}, verifies: true, check: func(t *testing.T, _, c map[string]any, _ string) {
			if !reflect.DeepEqual(c["aud"], []any{"basic-app", "other-audience"}) || c["azp"] != "basic-app" {
				t.Errorf("aud = %v azp = %v", c["aud"], c["azp"])
			}
		}},
		{name: "wrong nonce", faults: Faults{WrongNonce: true}, verifies: true, check: func(t *testing.T, _, c map[string]any, _ string) {
			if c["nonce"] == "n-456" || c["nonce"] == nil {
				t.Errorf("nonce = %v", c["nonce"])
			}
		}},
		{name: "missing sub", faults: Faults{MissingSub: true}, verifies: true, check: func(t *testing.T, _, c map[string]any, _ string) {
			if _, ok := c["sub"]; ok {
				t.Errorf("sub = %v", c["sub"])
			}
		}},
		{name: "missing iat", faults: Faults{MissingIat: true}, verifies: true, check: func(t *testing.T, _, c map[string]any, _ string) {
			if _, ok := c["iat"]; ok || c["exp"] == nil {
				t.Errorf("iat = %v exp = %v", c["iat"], c["exp"])
			}
		}},
		{name: "expired", faults: Faults{Expired: true}, verifies: true, check: func(t *testing.T, _, c map[string]any, _ string) {
			exp, _ := c["exp"].(float64)
			iat, _ := c["iat"].(float64)
			if exp >= now || iat >= exp {
				t.Errorf("exp %v iat %v now %v", exp, iat, now)
			}
		}},
		{name: "claims only in userinfo", faults: Faults{ClaimsOnlyInUserinfo: true}, verifies: true, check: func(t *testing.T, _, c map[string]any, _ string) {
			for k := range c {
				if !map[string]bool{"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nonce": true, "auth_time": true}[k] {
					t.Errorf("unexpected claim %s", k)
				}
			}
		}},
		{name: "groups as string under another name", faults: Faults{GroupsClaim: "memberOf", GroupsShape: GroupsString}, verifies: true, check: func(t *testing.T, _, c map[string]any, _ string) {
			if c["memberOf"] != "ML Team" || c["groups"] != nil {
				t.Errorf("memberOf = %#v groups = %#v", c["memberOf"], c["groups"])
			}
		}},
		{name: "groups absent", faults: Faults{GroupsShape: GroupsAbsent}, verifies: true, check: func(t *testing.T, _, c map[string]any, _ string) {
			if _, ok := c["groups"]; ok {
				t.Errorf("groups = %v", c["groups"])
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := issueIDToken(t, s, tc.faults)
			_, _, err := verifyJWT(t, s, raw)
			if (err == nil) != tc.verifies {
				t.Fatalf("RS256 verification error = %v, want verifies=%v", err, tc.verifies)
			}
			h, c := jwtParts(t, raw)
			tc.check(t, h, c, raw)
		})
	}
}

func TestCallbackErrorFault(t *testing.T) {
	s := startServer(t, Options{Faults: Faults{CallbackError: "access_denied"}})
	target, err := Login(t.Context(), nil, authRequestURL(s, "basic-app", nil), "alice", "alice-pw")
	if err != nil {
		t.Fatal(err)
	}
	q := target.Query()
	if q.Get("error") != "access_denied" || q.Get("error_description") == "" || q.Get("state") != "st-123" || q.Get("iss") != s.Issuer() || q.Has("code") {
		t.Errorf("callback query %v", q)
	}
}

func TestFaultsValidate(t *testing.T) {
	tests := []struct {
		name string
		f    Faults
		ok   bool
	}{
		{"zero", Faults{}, true},
		{"all shapes", Faults{GroupsShape: GroupsString, GroupsClaim: "memberOf", TokenStatus: 503, TokenDelay: time.Second, CallbackError: "login_required"}, true},
		{"bad shape", Faults{GroupsShape: "list"}, false},
		{"reserved groups claim", Faults{GroupsClaim: "sub"}, false},
		{"success token status", Faults{TokenStatus: 200}, false},
		{"negative delay", Faults{TokenDelay: -time.Second}, false},
		{"quote in error", Faults{CallbackError: `a"b`}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "pingemu: Faults.") {
				t.Errorf("error %q does not name the field", err)
			}
			srv, err := Start(Options{Faults: tc.f})
			if srv != nil {
				_ = srv.Close()
			}
			if (err == nil) != tc.ok {
				t.Errorf("Start accepted=%v, want %v", err == nil, tc.ok)
			}
		})
	}
}
