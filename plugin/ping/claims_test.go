package ping

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/plugin"
)

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestExtractGroups(t *testing.T) {
	for _, tc := range []struct {
		name    string
		claims  string
		claim   string
		fromDN  bool
		want    []string
		wantErr string // substring; "" means success
	}{
		{"list", `{"groups":["a","b"]}`, "groups", false, []string{"a", "b"}, ""},
		{"string", `{"groups":"ML Team"}`, "groups", false, []string{"ML Team"}, ""},
		{"absent", `{}`, "groups", false, []string{}, ""},
		{"null", `{"groups":null}`, "groups", false, []string{}, ""},
		{"empty-list", `{"groups":[]}`, "groups", false, []string{}, ""},
		{"duplicates-and-blanks", `{"groups":["a","","a","b"]}`, "groups", false, []string{"a", "b"}, ""},
		{"non-string-member", `{"groups":["a",7]}`, "groups", false, nil, `claim "groups": member 1 is a number`},
		{"object", `{"groups":{"a":1}}`, "groups", false, nil, `claim "groups": is an object`},
		{"number", `{"groups":3}`, "groups", false, nil, `claim "groups": is a number`},
		{"dot-named", `{"p1.groups":["x"],"p1":{"groups":["wrong"]}}`, "p1.groups", false, []string{"x"}, ""},
		{"uri-named", `{"https://example.com/groups":["x"]}`, "https://example.com/groups", false, []string{"x"}, ""},
		{"json-pointer", `{"realm":{"roles":["r1","r2"]}}`, "/realm/roles", false, []string{"r1", "r2"}, ""},
		{"json-pointer-escapes", `{"a/b":{"c~d":["x"]}}`, "/a~1b/c~0d", false, []string{"x"}, ""},
		{"json-pointer-index", `{"orgs":[{"groups":["g"]}]}`, "/orgs/0/groups", false, []string{"g"}, ""},
		{"json-pointer-missing", `{"realm":{}}`, "/realm/roles", false, []string{}, ""},
		{"literal-before-pointer", `{"/realm/roles":["lit"],"realm":{"roles":["ptr"]}}`, "/realm/roles", false, []string{"lit"}, ""},
		{"dn-list", `{"memberOf":["CN=ML Team,OU=Groups,DC=example,DC=com","cn=Admins,dc=example,dc=com"]}`, "memberOf", true, []string{"ML Team", "Admins"}, ""},
		{"dn-string", `{"memberOf":"cn=Data\\, Science,ou=g,dc=x"}`, "memberOf", true, []string{"Data, Science"}, ""},
		{"dn-first-cn", `{"memberOf":["uid=x,cn=Outer,cn=Inner,dc=x"]}`, "memberOf", true, []string{"Outer"}, ""},
		{"dn-invalid", `{"memberOf":["ML Team"]}`, "memberOf", true, nil, `claim "memberOf": value "ML Team" is not an LDAP DN`},
		{"dn-without-cn", `{"memberOf":["ou=Groups,dc=example"]}`, "memberOf", true, nil, `value "ou=Groups,dc=example" is not an LDAP DN with a CN`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := extractGroups(decode(t, tc.claims), tc.claim, tc.fromDN)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("extractGroups = %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}

func TestExtractIdentity(t *testing.T) {
	tru, fls := true, false
	for _, tc := range []struct {
		name     string
		claims   string
		mutate   func(*config.Config)
		userID   string
		email    string
		verified *bool
		name_    string
		groups   []string
		wantErr  string
	}{
		{name: "standard", claims: `{"sub":"S-1","email":"a@x","email_verified":true,"name":"A B","groups":["g"]}`,
			userID: "S-1", email: "a@x", verified: &tru, name_: "A B", groups: []string{"g"}},
		{name: "verified-string", claims: `{"sub":"s","email_verified":"False"}`, userID: "s", verified: &fls},
		{name: "verified-absent", claims: `{"sub":"s"}`, userID: "s"},
		{name: "verified-bad", claims: `{"sub":"s","email_verified":"yes"}`, wantErr: `claim "email_verified"`},
		{name: "name-preferred-username", claims: `{"sub":"s","preferred_username":"alice"}`, userID: "s", name_: "alice"},
		{name: "name-given-family", claims: `{"sub":"s","given_name":"Alice","family_name":"Ex"}`, userID: "s", name_: "Alice Ex"},
		{name: "name-given-only", claims: `{"sub":"s","given_name":"Alice"}`, userID: "s", name_: "Alice"},
		{name: "name-email", claims: `{"sub":"s","email":"a@x"}`, userID: "s", email: "a@x", name_: "a@x"},
		{name: "custom-claims", claims: `{"sub":"s","uid":"alice","mail":"a@x","cn":"Alice"}`,
			mutate: func(c *config.Config) { c.Claims = config.Claims{UserID: "uid", Email: "mail", Name: "cn"} },
			userID: "alice", email: "a@x", name_: "Alice"},
		{name: "user-id-pointer", claims: `{"sub":"s","ext":{"id":"E1"}}`,
			mutate: func(c *config.Config) { c.Claims.UserID = "/ext/id" }, userID: "E1"},
		{name: "user-id-missing", claims: `{"sub":"s"}`, mutate: func(c *config.Config) { c.Claims.UserID = "uid" },
			wantErr: `claim "uid": is missing`},
		{name: "user-id-number", claims: `{"sub":"s","uid":42}`, mutate: func(c *config.Config) { c.Claims.UserID = "uid" },
			wantErr: `claim "uid": is a number, not a string`},
		{name: "email-not-string", claims: `{"sub":"s","email":["a@x"]}`, wantErr: `claim "email": is a list`},
		{name: "groups-error-when-enabled", claims: `{"sub":"s","groups":[1]}`, wantErr: `claim "groups"`},
		{name: "groups-error-ignored-when-disabled", claims: `{"sub":"s","groups":[1]}`,
			mutate: func(c *config.Config) { c.Groups.Enabled = false }, userID: "s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Groups.Enabled = true
			if tc.mutate != nil {
				tc.mutate(&cfg)
			}
			claims := decode(t, tc.claims)
			id, err := ExtractIdentity(cfg, "https://iss", "S-1", claims)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || id != nil {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			groups := tc.groups
			if groups == nil {
				groups = []string{}
			}
			if id.Issuer != "https://iss" || id.Subject != "S-1" || id.UserID != tc.userID || id.Email != tc.email ||
				!reflect.DeepEqual(id.EmailVerified, tc.verified) || id.Name != tc.name_ || !reflect.DeepEqual(id.Groups, groups) {
				t.Fatalf("identity %+v (verified %v)", id, id.EmailVerified)
			}
			if !reflect.DeepEqual(id.Claims, claims) {
				t.Fatalf("claims %v", id.Claims)
			}
		})
	}
}

func TestMergeClaims(t *testing.T) {
	id := decode(t, `{"iss":"I","sub":"S","aud":"A","nonce":"N","exp":1,"iat":1,"email":"old@x","acr":"1"}`)
	ui := decode(t, `{"iss":"X","sub":"S","aud":"B","nonce":"M","exp":2,"iat":2,"email":"new@x","groups":["g"]}`)
	got := mergeClaims(id, ui)
	want := decode(t, `{"iss":"I","sub":"S","aud":"A","nonce":"N","exp":1,"iat":1,"email":"new@x","acr":"1","groups":["g"]}`)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("merge = %v", got)
	}
	if id["email"] != "old@x" {
		t.Fatal("merge modified the ID token claims")
	}
}

// TestClaimLengthCaps logs in users whose claims are at and over the caps:
// over a cap the login is refused, naming the claim, its length and the
// cap, and no identity is returned.
func TestClaimLengthCaps(t *testing.T) {
	at := func(n int) string { return strings.Repeat("n", n) }
	email := func(n int) string { return strings.Repeat("e", n-len("@example.com")) + "@example.com" }
	for _, tc := range []struct {
		name    string
		user    pingemu.User
		idClaim string // claims__user_id; "" keeps sub
		claim   string // "" means the login succeeds
		length  int
		cap     int
	}{
		{name: "all-at-caps", user: pingemu.User{Subject: at(MaxUserIDBytes), Claims: map[string]any{"email": email(MaxEmailBytes), "name": at(MaxNameBytes)}}},
		{name: "name", user: pingemu.User{Claims: map[string]any{"name": at(MaxNameBytes + 1)}}, claim: "name", length: MaxNameBytes + 1, cap: MaxNameBytes},
		{name: "name-in-bytes-not-runes", user: pingemu.User{Claims: map[string]any{"name": strings.Repeat("é", MaxNameBytes/2+1)}}, claim: "name", length: MaxNameBytes + 2, cap: MaxNameBytes},
		{name: "name-from-preferred_username", user: pingemu.User{Claims: map[string]any{"preferred_username": at(MaxNameBytes + 1)}}, claim: "preferred_username", length: MaxNameBytes + 1, cap: MaxNameBytes},
		{name: "email", user: pingemu.User{Claims: map[string]any{"email": email(MaxEmailBytes + 1)}}, claim: "email", length: MaxEmailBytes + 1, cap: MaxEmailBytes},
		{name: "sub", user: pingemu.User{Subject: at(MaxUserIDBytes + 1)}, claim: "sub", length: MaxUserIDBytes + 1, cap: MaxUserIDBytes},
		{name: "user-id-claim", user: pingemu.User{Claims: map[string]any{"employee_id": at(MaxUserIDBytes + 1)}}, idClaim: "employee_id", claim: "employee_id", length: MaxUserIDBytes + 1, cap: MaxUserIDBytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.user.Username, tc.user.Password = "long", "long-pw"
			if tc.user.Claims["name"] == nil && tc.claim != "preferred_username" {
				tc.user.Claims = mergeClaims(tc.user.Claims, map[string]any{"name": "Long"})
			}
			var logs testutil.SyncBuffer
			e := newTestEnv(t, envOpts{users: []pingemu.User{tc.user}, logOutput: &logs, mutate: func(c *config.Config, _ *pingemu.Server) {
				c.Claims.UserID = tc.idClaim
			}})
			cb, sealed := e.begin(t, "long", "/")
			done, err := e.rp.Complete(context.Background(), testRedirect, sealed, cb.Query())
			if tc.claim == "" {
				if err != nil {
					t.Fatalf("login at the caps: %v", err)
				}
				if id := done.Identity; len(id.UserID) != MaxUserIDBytes || len(id.Email) != MaxEmailBytes || len(id.Name) != MaxNameBytes {
					t.Fatalf("identity lengths %d %d %d, want the caps", len(id.UserID), len(id.Email), len(id.Name))
				}
				return
			}
			if done != nil {
				t.Fatalf("identity %+v returned over a cap", done.Identity)
			}
			le, ok := err.(*plugin.LoginError)
			if !ok || le.Kind != plugin.KindVerification {
				t.Fatalf("error %#v, want a verification LoginError", err)
			}
			for _, want := range []string{fmt.Sprintf("%q", tc.claim), fmt.Sprintf("%d bytes long", tc.length), fmt.Sprintf("cap of %d bytes", tc.cap)} {
				if !strings.Contains(le.Message, want) {
					t.Errorf("message %q lacks %s", le.Message, want)
				}
			}
			if log := logs.String(); !strings.Contains(log, "login failed") || !strings.Contains(log, fmt.Sprintf("%d bytes long", tc.length)) {
				t.Errorf("no log line for the refused login:\n%s", log)
			}
		})
	}
}

// TestEmailDomainALabel: a Unicode email domain reaches the identity as its
// A-label; look-alike or otherwise non-ASCII addresses pass unchanged, for
// the policy to deny.
func TestEmailDomainALabel(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"user@bücher.example", "user@xn--bcher-kva.example"},
		{"User.Name@Bücher.Example", "User.Name@xn--bcher-kva.example"},
		{"a@例え.テスト", "a@xn--r8jz45g.xn--zckzah"},
		{"admİn@example.com", "admİn@example.com"},
		{"\u212Aate@example.com", "\u212Aate@example.com"},
		{"kate@e\u212Aample.com", "kate@e\u212Aample.com"}, // no IDNA2008 form
		{"admİn@bücher.example", "admİn@bücher.example"},   // the local part stays non-ASCII
		{"attacker@evil.com@bücher.example", "attacker@evil.com@bücher.example"},
		{"Alice@Example.COM", "Alice@Example.COM"},
		{"no-at-sign", "no-at-sign"},
		{"", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			claims := map[string]any{"sub": "s1"}
			if tc.in != "" {
				claims["email"] = tc.in
			}
			id, err := ExtractIdentity(config.Default(), "https://issuer.example/as", "s1", claims)
			if err != nil {
				t.Fatal(err)
			}
			if id.Email != tc.want {
				t.Errorf("email %q, want %q", id.Email, tc.want)
			}
		})
	}
}

// TestLoginIDNEmail logs in a user whose email has a Unicode domain.
func TestLoginIDNEmail(t *testing.T) {
	e := newTestEnv(t, envOpts{users: []pingemu.User{{Username: "idn", Password: "idn-pw",
		Claims: map[string]any{"email": "user@bücher.example", "name": "IDN"}}}})
	id, _, err := e.login(t, "idn")
	if err != nil {
		t.Fatal(err)
	}
	if id.Email != "user@xn--bcher-kva.example" {
		t.Errorf("email %q, want the A-label form", id.Email)
	}
}
