package pingemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"
)

// subjectNamespace seeds DefaultSubject's name-based UUIDs.
var subjectNamespace = uuid.MustParse("8c0b3e0e-5d2a-4f4e-9a57-3f0d1c6b2a11")

// DefaultSubject returns the sub given to a user without one: a UUID derived
// from the username (stable across runs), as PingOne uses UUID subjects.
func DefaultSubject(username string) string {
	return uuid.NewSHA1(subjectNamespace, []byte(username)).String()
}

// reservedClaims are set by the emulator and may not come from User.Claims.
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"auth_time": true, "nonce": true, "acr": true, "amr": true, "azp": true, "sid": true,
	"at_hash": true, "c_hash": true, "env": true, "org": true, "p1.region": true,
}

// fileUser is a user as a users file writes it: User's fields, plus email,
// email_verified and name as shorthands for the claims of those names.
type fileUser struct {
	Username      string         `json:"username" yaml:"username"`
	Password      string         `json:"password" yaml:"password"`
	Subject       string         `json:"sub" yaml:"sub"`
	Email         *string        `json:"email" yaml:"email"`
	EmailVerified *bool          `json:"email_verified" yaml:"email_verified"`
	Name          *string        `json:"name" yaml:"name"`
	Groups        []string       `json:"groups" yaml:"groups"`
	Claims        map[string]any `json:"claims" yaml:"claims"`
}

// user moves the shorthands into the claims; a claim given both ways is an
// error.
func (f fileUser) user(i int) (User, error) {
	u := User{Username: f.Username, Password: f.Password, Subject: f.Subject, Groups: f.Groups, Claims: f.Claims}
	for _, c := range []struct {
		name string
		set  bool
		v    any
	}{
		{"email", f.Email != nil, deref(f.Email)},
		{"email_verified", f.EmailVerified != nil, deref(f.EmailVerified)},
		{"name", f.Name != nil, deref(f.Name)},
	} {
		if !c.set {
			continue
		}
		if _, dup := u.Claims[c.name]; dup {
			return u, fmt.Errorf("user %d (%q): %s is given both as a field and in claims; keep one", i+1, f.Username, c.name)
		}
		if u.Claims == nil {
			u.Claims = map[string]any{}
		}
		u.Claims[c.name] = c.v
	}
	return u, nil
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// usersFile is the optional wrapped form of a users file: {"users": [...]}.
type usersFile struct {
	Users []fileUser `json:"users" yaml:"users"`
}

// LoadUsers reads users from a .json, .yaml or .yml file holding either a list
// of users or an object with a "users" list. A user has username, password,
// and optionally sub, email, email_verified, name, groups (a list of names)
// and claims (any other claims; email, email_verified and name may be given
// here instead). Unknown fields are errors. It does not fill in defaults
// (Start does).
func LoadUsers(path string) ([]User, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pingemu: read users: %w", err)
	}
	var entries []fileUser
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".json":
		entries, err = decodeUsersJSON(data)
	case ".yaml", ".yml":
		entries, err = decodeUsersYAML(data)
	default:
		return nil, fmt.Errorf("pingemu: users file %s: extension %q: want .json, .yaml or .yml", path, ext)
	}
	if err != nil {
		return nil, fmt.Errorf("pingemu: users file %s: %w", path, err)
	}
	var users []User
	for i, e := range entries {
		u, err := e.user(i)
		if err != nil {
			return nil, fmt.Errorf("pingemu: users file %s: %w", path, err)
		}
		users = append(users, u)
	}
	if err := validateUsers(users); err != nil {
		return nil, fmt.Errorf("pingemu: users file %s: %w", path, err)
	}
	return users, nil
}

func decodeUsersJSON(data []byte) ([]fileUser, error) {
	trimmed := bytes.TrimSpace(data)
	var users []fileUser
	var target any = &users
	var wrapped usersFile
	if len(trimmed) > 0 && trimmed[0] == '{' {
		target = &wrapped
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the users")
	}
	if target == &wrapped {
		users = wrapped.Users
	}
	return users, nil
}

func decodeUsersYAML(data []byte) ([]fileUser, error) {
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return nil, err
	}
	var users []fileUser
	var target any = &users
	var wrapped usersFile
	if len(node.Content) > 0 && node.Content[0].Kind == yaml.MappingNode {
		target = &wrapped
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(target); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if target == &wrapped {
		users = wrapped.Users
	}
	return users, nil
}

// validateUsers checks what Start needs: names, passwords, unique usernames
// and subjects, no reserved claim names.
func validateUsers(users []User) error {
	names := map[string]bool{}
	subs := map[string]string{}
	for i, u := range users {
		if u.Username == "" {
			return fmt.Errorf("user %d: username is empty", i+1)
		}
		if names[u.Username] {
			return fmt.Errorf("user %q listed twice", u.Username)
		}
		names[u.Username] = true
		if u.Password == "" {
			return fmt.Errorf("user %q: password is empty", u.Username)
		}
		sub := u.Subject
		if sub == "" {
			sub = DefaultSubject(u.Username)
		}
		if other, dup := subs[sub]; dup {
			return fmt.Errorf("users %q and %q share the sub %q", other, u.Username, sub)
		}
		subs[sub] = u.Username
		for name := range u.Claims {
			if reservedClaims[name] {
				return fmt.Errorf("user %q: claim %q is set by the provider and cannot be given in claims", u.Username, name)
			}
			if name == "groups" {
				return fmt.Errorf("user %q: put groups in the user's groups list, not in claims", u.Username)
			}
		}
		for j, g := range u.Groups {
			if g == "" {
				return fmt.Errorf("user %q: group %d is empty", u.Username, j+1)
			}
		}
	}
	return nil
}

// addUsers validates and copies users into the server, filling in subjects.
func (s *Server) addUsers(users []User) error {
	if err := validateUsers(users); err != nil {
		return fmt.Errorf("pingemu: Options.Users: %w", err)
	}
	for _, u := range users {
		c := u
		if c.Subject == "" {
			c.Subject = DefaultSubject(c.Username)
		}
		c.Claims = maps.Clone(u.Claims)
		c.Groups = append([]string(nil), u.Groups...)
		s.users[c.Username] = &c
	}
	return nil
}
