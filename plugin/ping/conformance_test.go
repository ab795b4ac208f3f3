package ping

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/plugin"
)

// TestConformanceRejections mirrors the OpenID relying party conformance
// tests that must end in a rejected login.
func TestConformanceRejections(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults pingemu.Faults
		setup  func(t *testing.T, emu *pingemu.Server)
		cause  error
	}{
		{name: "rp-nonce-invalid", faults: pingemu.Faults{WrongNonce: true}, cause: errNonce},
		{name: "rp-id_token-issuer-mismatch", faults: pingemu.Faults{WrongIssuer: true}, cause: errIssuerMismatch},
		{name: "rp-id_token-sub", faults: pingemu.Faults{MissingSub: true}, cause: errMissingSub},
		{name: "rp-id_token-aud", faults: pingemu.Faults{WrongAudience: true}, cause: errAudience},
		{name: "rp-id_token-iat", faults: pingemu.Faults{MissingIat: true}, cause: errMissingIat},
		{name: "rp-id_token-bad-sig-rs256", faults: pingemu.Faults{BadSignature: true}, cause: errSignature},
		{name: "rp-id_token-sig-none", faults: pingemu.Faults{AlgNone: true}, cause: errAlgNone},
		{
			name:   "rp-id_token-kid-absent-multiple-jwks",
			faults: pingemu.Faults{OmitKid: true},
			setup: func(t *testing.T, emu *pingemu.Server) {
				if _, err := emu.AddKey(); err != nil {
					t.Fatal(err)
				}
			},
			cause: errKidAbsentMultiple,
		},
		{name: "rp-userinfo-bad-sub-claim", faults: pingemu.Faults{UserinfoOtherSub: true}, cause: errUserinfoSub},
		// Beyond the required list: HMAC signatures and signed userinfo.
		{name: "rp-id_token-bad-sig-hs256", faults: pingemu.Faults{HS256: true, BadSignature: true}, cause: errSignature},
		{name: "rp-userinfo-sig-bad-sub", faults: pingemu.Faults{SignedUserinfo: true, UserinfoOtherSub: true}, cause: errUserinfoSub},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, envOpts{faults: tc.faults})
			if tc.setup != nil {
				tc.setup(t, e.emu)
			}
			id, _, err := e.login(t, "alice")
			wantErr(t, id, err, plugin.KindVerification, tc.cause)
		})
	}
}

// TestConformanceAcceptance mirrors the conformance tests a relying party
// must pass with a successful login.
func TestConformanceAcceptance(t *testing.T) {
	t.Run("rp-id_token-kid-absent-single-jwks", func(t *testing.T) {
		e := newTestEnv(t, envOpts{faults: pingemu.Faults{OmitKid: true}})
		if _, _, err := e.login(t, "alice"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("rp-key-rotation-op-sign-key", func(t *testing.T) {
		e := newTestEnv(t, envOpts{})
		if _, _, err := e.login(t, "alice"); err != nil {
			t.Fatal(err)
		}
		kid, err := e.emu.RotateKey()
		if err != nil {
			t.Fatal(err)
		}
		e.emu.RetireOldKeys()
		if _, _, err := e.login(t, "alice"); err != nil {
			t.Fatalf("login after rotation: %v", err)
		}
		jwks := e.rec.to(e.emu.JWKSURL())
		if len(jwks) != 2 || !strings.Contains(jwks[1].RespBody, kid) {
			t.Fatalf("JWKS fetched %d times, want 2 (initial, then for kid %s)", len(jwks), kid)
		}
	})

	t.Run("rp-userinfo-bearer-header", func(t *testing.T) {
		e := newTestEnv(t, envOpts{faults: pingemu.Faults{ClaimsOnlyInUserinfo: true}})
		id, _, err := e.login(t, "alice")
		if err != nil {
			t.Fatal(err)
		}
		ui := e.rec.to(e.emu.UserinfoURL())
		if len(ui) != 1 || ui[0].Method != http.MethodGet || !strings.HasPrefix(ui[0].Header.Get("Authorization"), "Bearer ") ||
			strings.Contains(ui[0].URL, "access_token") {
			t.Fatalf("userinfo request %+v, want GET with a Bearer header only", ui)
		}
		if id.Email != "alice@example.com" {
			t.Errorf("email %q did not come from userinfo", id.Email)
		}
	})

	t.Run("rp-userinfo-sig", func(t *testing.T) {
		e := newTestEnv(t, envOpts{faults: pingemu.Faults{SignedUserinfo: true, ClaimsOnlyInUserinfo: true}})
		id, _, err := e.login(t, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if id.Email != "alice@example.com" || len(id.Groups) != 2 {
			t.Errorf("signed userinfo claims not used: %+v", id)
		}
	})

	t.Run("rp-id_token-sig-hs256", func(t *testing.T) {
		e := newTestEnv(t, envOpts{faults: pingemu.Faults{HS256: true}})
		if _, _, err := e.login(t, "alice"); err != nil {
			t.Fatal(err)
		}
	})

	for _, method := range []string{AuthClientSecretBasic, AuthClientSecretPost} {
		t.Run("rp-token_endpoint-"+method, func(t *testing.T) {
			e := newTestEnv(t, envOpts{clientAuth: method})
			if _, _, err := e.login(t, "alice"); err != nil {
				t.Fatal(err)
			}
			tok := e.rec.to(e.emu.TokenURL())
			if len(tok) != 1 {
				t.Fatalf("token endpoint called %d times, want once", len(tok))
			}
			basic := strings.HasPrefix(tok[0].Header.Get("Authorization"), "Basic ")
			post := containsParam(tok[0].Body, "client_secret")
			if basic != (method == AuthClientSecretBasic) || post != (method == AuthClientSecretPost) {
				t.Fatalf("%s: Authorization basic=%v, client_secret in body=%v", method, basic, post)
			}
		})
	}

	t.Run("rp-scope-userinfo-claims", func(t *testing.T) {
		for _, tc := range []struct {
			scopes    []string
			wantEmail string
			wantName  string
		}{
			{[]string{"openid", "profile", "email"}, "alice@example.com", "Alice Example"},
			{[]string{"openid", "email"}, "alice@example.com", "alice@example.com"},
			{[]string{"openid"}, "", ""},
		} {
			e := newTestEnv(t, envOpts{
				faults: pingemu.Faults{ClaimsOnlyInUserinfo: true},
				mutate: func(c *config.Config, _ *pingemu.Server) { c.Scopes = tc.scopes },
			})
			id, _, err := e.login(t, "alice")
			if err != nil {
				t.Fatalf("scopes %q: %v", tc.scopes, err)
			}
			if id.Email != tc.wantEmail || id.Name != tc.wantName {
				t.Errorf("scopes %q: email %q name %q, want %q %q", tc.scopes, id.Email, id.Name, tc.wantEmail, tc.wantName)
			}
		}
	})
}

// TestHS256NotAdvertised checks an HS256 ID token is refused when the
// provider's discovery did not list HS256.
func TestHS256NotAdvertised(t *testing.T) {
	e := newTestEnv(t, envOpts{})
	cb, sealed := e.begin(t, "alice", "/") // discovery without HS256
	e.emu.SetFaults(pingemu.Faults{HS256: true})
	id, _, err := e.rp.complete(context.Background(), testRedirect, sealed, cb.Query())
	wantErr(t, id, err, plugin.KindVerification, errAlgNotAllowed)
}
