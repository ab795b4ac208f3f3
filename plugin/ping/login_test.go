package ping

import (
	"context"
	"slices"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/plugin"
)

func TestFullLogin(t *testing.T) {
	for _, flavor := range []pingemu.Flavor{pingemu.PingOne, pingemu.PingFederate} {
		for _, pk := range []struct {
			name   string
			on     bool
			method string
			mode   pingemu.PKCEMode
		}{
			{"pkce-off", false, "", pingemu.PKCEOptional},
			{"pkce-s256", true, "S256", pingemu.PKCES256Required},
			{"pkce-plain", true, "plain", pingemu.PKCERequired},
		} {
			for _, onlyUserinfo := range []bool{false, true} {
				name := string(flavor) + "/" + pk.name
				if onlyUserinfo {
					name += "/claims-only-in-userinfo"
				}
				t.Run(name, func(t *testing.T) {
					e := newTestEnv(t, envOpts{
						flavor:     flavor,
						clientPKCE: pk.mode,
						faults:     pingemu.Faults{ClaimsOnlyInUserinfo: onlyUserinfo},
						mutate: func(c *config.Config, _ *pingemu.Server) {
							c.CodeChallenge, c.CodeChallengeMethod = pk.on, pk.method
						},
					})
					cb, sealed := e.begin(t, "alice", "/dashboard?tab=1")
					done, err := e.rp.Complete(context.Background(), testRedirect, sealed, cb.Query())
					if err != nil {
						t.Fatalf("Complete: %v", err)
					}
					id, returnTo := done.Identity, done.ReturnTo
					sub, _ := e.emu.Subject("alice")
					if id.Issuer != e.emu.Issuer() || id.Subject != sub || id.UserID != sub {
						t.Errorf("issuer/subject/user_id = %q %q %q, want %q %q", id.Issuer, id.Subject, id.UserID, e.emu.Issuer(), sub)
					}
					if id.Email != "alice@example.com" || id.EmailVerified == nil || !*id.EmailVerified || id.Name != "Alice Example" {
						t.Errorf("email/verified/name = %q %v %q", id.Email, id.EmailVerified, id.Name)
					}
					if !slices.Equal(id.Groups, []string{"ML Team", "Admins"}) {
						t.Errorf("groups = %q", id.Groups)
					}
					if returnTo != "/dashboard?tab=1" {
						t.Errorf("returnTo = %q", returnTo)
					}
					if id.Claims["department"] != "ML" || id.Claims["nonce"] == nil {
						t.Errorf("claims lack department or nonce: %v", id.Claims)
					}
					if flavor == pingemu.PingOne && !onlyUserinfo && id.Claims["p1.region"] == nil {
						t.Errorf("PingOne claim p1.region missing: %v", id.Claims)
					}
					// The userinfo endpoint was called whenever it is known.
					if n := len(e.rec.to(e.emu.UserinfoURL())); n != 1 {
						t.Errorf("userinfo called %d times", n)
					}
					tok := e.rec.to(e.emu.TokenURL())
					if len(tok) != 1 {
						t.Fatalf("token endpoint called %d times", len(tok))
					}
					if got := tok[0].Body; pk.on != containsParam(got, "code_verifier") {
						t.Errorf("token request %q: code_verifier presence should be %v", got, pk.on)
					}
				})
			}
		}
	}
}

// TestCompleteReturnsLoginError checks the public error type and that a
// failed Complete gives no identity.
func TestCompleteReturnsLoginError(t *testing.T) {
	e := newTestEnv(t, envOpts{faults: pingemu.Faults{WrongNonce: true}})
	cb, sealed := e.begin(t, "alice", "/")
	done, err := e.rp.Complete(context.Background(), testRedirect, sealed, cb.Query())
	le, ok := err.(*plugin.LoginError)
	if !ok || le.Kind != plugin.KindVerification || done != nil {
		t.Fatalf("Complete = %v %T %v, want a *plugin.LoginError of kind verification", done, err, err)
	}
}

// TestSubjectCaseKept checks sub is used verbatim and a string
// email_verified is read.
func TestSubjectCaseKept(t *testing.T) {
	e := newTestEnv(t, envOpts{})
	id, _, err := e.login(t, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "Bob-Mixed-Case-Sub" || id.UserID != "Bob-Mixed-Case-Sub" {
		t.Errorf("subject = %q, user_id = %q", id.Subject, id.UserID)
	}
	if id.EmailVerified == nil || *id.EmailVerified {
		t.Errorf("email_verified = %v, want false", id.EmailVerified)
	}
	if id.Name != "bob" { // preferred_username fallback
		t.Errorf("name = %q, want the preferred_username", id.Name)
	}
	if len(id.Groups) != 0 || id.Groups == nil {
		t.Errorf("groups = %#v, want an empty list", id.Groups)
	}
}

func TestGroupShapes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults pingemu.Faults
		claim  string
		want   []string
	}{
		{"string", pingemu.Faults{GroupsShape: pingemu.GroupsString}, "", []string{"ML Team"}},
		{"absent", pingemu.Faults{GroupsShape: pingemu.GroupsAbsent}, "", []string{}},
		{"custom-claim", pingemu.Faults{GroupsClaim: "memberOf"}, "memberOf", []string{"ML Team", "Admins"}},
		{"aud-array-with-azp", pingemu.Faults{AudArrayWithAzp: true}, "", []string{"ML Team", "Admins"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, envOpts{faults: tc.faults, mutate: func(c *config.Config, _ *pingemu.Server) {
				if tc.claim != "" {
					c.Groups.Claim = tc.claim
				}
			}})
			id, _, err := e.login(t, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(id.Groups, tc.want) {
				t.Errorf("groups = %q, want %q", id.Groups, tc.want)
			}
		})
	}
}

func TestGroupsFromDN(t *testing.T) {
	e := newTestEnv(t, envOpts{flavor: pingemu.PingFederate, mutate: func(c *config.Config, _ *pingemu.Server) {
		c.Groups.FromDN = true
	}})
	if err := e.emu.SetUserGroups("alice", []string{"CN=ML Team,OU=Groups,DC=example,DC=com", `cn=R\2CD,ou=Groups,dc=example,dc=com`}); err != nil {
		t.Fatal(err)
	}
	id, _, err := e.login(t, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(id.Groups, []string{"ML Team", "R,D"}) {
		t.Errorf("groups = %q", id.Groups)
	}
	if err := e.emu.SetUserGroups("alice", []string{"ML Team"}); err != nil {
		t.Fatal(err)
	}
	id, _, err = e.login(t, "alice")
	wantErr(t, id, err, plugin.KindVerification, nil)
	var ce *ClaimError
	if !errorsAs(err, &ce) || ce.Claim != "groups" {
		t.Fatalf("error %v is not a ClaimError naming groups", err)
	}
}

// TestConcurrentLogins runs logins in parallel on one relying party: the
// discovery and key caches are shared.
func TestConcurrentLogins(t *testing.T) {
	e := newTestEnv(t, envOpts{clientPKCE: pingemu.PKCES256Required, mutate: pkceOn})
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			ctx := context.Background()
			authURL, sealed, err := e.rp.Begin(ctx, testRedirect, "/")
			if err != nil {
				errs <- err
				return
			}
			cb, err := pingemu.Login(ctx, nil, authURL, "alice", "alice-pw")
			if err != nil {
				errs <- err
				return
			}
			_, err = e.rp.Complete(ctx, testRedirect, sealed, cb.Query())
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(e.rec.to(e.emu.DiscoveryURL())); n != 1 {
		t.Errorf("discovery fetched %d times, want 1", n)
	}
}
