package pingemu

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadUsersTestdata(t *testing.T) {
	want := []User{
		{
			Username: "alice", Password: "alice-pw",
			Claims: map[string]any{
				"email": "alice@example.com", "email_verified": true, "name": "Alice Example",
				"given_name": "Alice", "family_name": "Example", "address": map[string]any{"country": "DE"},
			},
			Groups: []string{"ML Team", "Admins"},
		},
		{
			Username: "bob", Password: "bob-pw", Subject: "00u-bob",
			Claims: map[string]any{"email": "bob@example.org", "email_verified": false},
		},
	}
	for _, name := range []string{"users.yaml", "users.json"} {
		t.Run(name, func(t *testing.T) {
			got, err := LoadUsers(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("LoadUsers =\n%#v\nwant\n%#v", got, want)
			}
			s := startServer(t, Options{Users: got})
			if sub, _ := s.Subject("alice"); sub != DefaultSubject("alice") {
				t.Errorf("alice sub = %q", sub)
			}
			if sub, _ := s.Subject("bob"); sub != "00u-bob" {
				t.Errorf("bob sub = %q", sub)
			}
		})
	}
}

func TestLoadUsersFormats(t *testing.T) {
	tests := []struct {
		name, file, content string
		users               int
		err                 string // substring; "" means success
	}{
		{name: "yaml list", file: "u.yml", content: "- {username: a, password: p}\n- {username: b, password: p}\n", users: 2},
		{name: "json wrapped", file: "u.json", content: `{"users": [{"username": "a", "password": "p"}]}`, users: 1},
		{name: "empty yaml", file: "u.yaml", content: "", users: 0},
		{name: "upper-case extension", file: "u.JSON", content: `[]`, users: 0},
		{name: "unknown json field", file: "u.json", content: `[{"username": "a", "password": "p", "mail": "x"}]`, err: `unknown field "mail"`},
		{name: "unknown yaml field", file: "u.yaml", content: "- {username: a, password: p, mail: x}\n", err: "field mail not found"},
		{name: "json trailing data", file: "u.json", content: `[] []`, err: "trailing data"},
		{name: "bad yaml", file: "u.yaml", content: "- [", err: "u.yaml"},
		{name: "duplicate user", file: "u.json", content: `[{"username": "a", "password": "p"}, {"username": "a", "password": "q"}]`, err: `user "a" listed twice`},
		{name: "empty username", file: "u.json", content: `[{"password": "p"}]`, err: "user 1: username is empty"},
		{name: "empty password", file: "u.json", content: `[{"username": "a"}]`, err: `user "a": password is empty`},
		{name: "reserved claim", file: "u.json", content: `[{"username": "a", "password": "p", "claims": {"sub": "x"}}]`, err: `claim "sub"`},
		{name: "groups in claims", file: "u.json", content: `[{"username": "a", "password": "p", "claims": {"groups": ["x"]}}]`, err: "groups list"},
		{name: "shared sub", file: "u.json", content: `[{"username": "a", "password": "p", "sub": "s"}, {"username": "b", "password": "p", "sub": "s"}]`, err: `share the sub "s"`},
		{name: "bad extension", file: "u.toml", content: ``, err: `extension ".toml"`},
		{name: "email twice", file: "u.yaml", content: "- {username: a, password: p, email: a@x.com, claims: {email: b@x.com}}\n", err: "email is given both as a field and in claims"},
		{name: "email_verified not a boolean", file: "u.yaml", content: "- {username: a, password: p, email_verified: maybe}\n", err: "u.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			users, err := LoadUsers(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), tc.file) {
					t.Fatalf("err = %v, want one naming %s and containing %q", err, tc.file, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != tc.users {
				t.Errorf("%d users, want %d", len(users), tc.users)
			}
		})
	}
	if _, err := LoadUsers(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}

// The email, email_verified and name fields are shorthands for the claims.
func TestLoadUsersShorthands(t *testing.T) {
	want := []User{{
		Username: "dana", Password: "dana-pw", Groups: []string{"ML Team"},
		Claims: map[string]any{"email": "dana@example.com", "email_verified": false, "name": "Dana", "department": "Ops"},
	}}
	for file, content := range map[string]string{
		"u.yaml": "users:\n  - username: dana\n    password: dana-pw\n    email: dana@example.com\n    email_verified: false\n" +
			"    name: Dana\n    groups: [ML Team]\n    claims: {department: Ops}\n",
		"u.json": `[{"username": "dana", "password": "dana-pw", "email": "dana@example.com", "email_verified": false,
			"name": "Dana", "groups": ["ML Team"], "claims": {"department": "Ops"}}]`,
	} {
		path := filepath.Join(t.TempDir(), file)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := LoadUsers(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: LoadUsers =\n%#v\nwant\n%#v", file, got, want)
		}
	}
}

func TestDefaultSubject(t *testing.T) {
	a, b := DefaultSubject("alice"), DefaultSubject("bob")
	if a == b || a != DefaultSubject("alice") || len(a) != 36 || strings.Count(a, "-") != 4 {
		t.Errorf("DefaultSubject: %q %q", a, b)
	}
}
