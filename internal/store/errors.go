package store

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pingauthz/pingauthz/sso"
)

// NotFoundError names a company, group, user, membership or whitelist entry
// that does not exist. errors.Is(err, sso.ErrNotFound) reports true for it.
type NotFoundError struct {
	// Kind is "company", "group", "user", "membership" or "whitelist entry".
	Kind string
	// Key identifies the missing thing, e.g. the company id.
	Key string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("store: %s %s not found", e.Kind, e.Key)
}

// Is makes errors.Is(err, sso.ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == sso.ErrNotFound }

// ExistsError names a company or group that already exists.
type ExistsError struct {
	// Kind is "company" or "group".
	Kind string
	Key  string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("store: %s %s already exists", e.Kind, e.Key)
}

// InUseError refuses to remove a company that users still belong to.
type InUseError struct {
	// Kind is "company".
	Kind string
	Key  string
	// Users is how many users belong to it.
	Users int
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("store: %s %s still has %d user(s); it cannot be removed while users belong to it", e.Kind, e.Key, e.Users)
}

// ErrDenied is returned by Apply for a decision that does not allow the login.
var ErrDenied = errors.New("store: the decision does not allow the login")

// SchemaVersionError reports a database written by a newer version of this
// software: its schema version is above the newest one known here.
type SchemaVersionError struct {
	Have, Known int
}

func (e *SchemaVersionError) Error() string {
	return fmt.Sprintf("store: database schema version %d is newer than this program supports (%d)", e.Have, e.Known)
}

// notFound builds a NotFoundError with the key quoted.
func notFound(kind, key string) error {
	return &NotFoundError{Kind: kind, Key: fmt.Sprintf("%q", key)}
}

// checkName rejects an empty name, one with surrounding white space, control
// characters or invalid UTF-8; what names a company id, company name or group.
func checkName(what, v string) error {
	switch {
	case v == "":
		return fmt.Errorf("store: %s is empty", what)
	case !utf8.ValidString(v):
		return fmt.Errorf("store: %s %q is not valid UTF-8", what, v)
	case strings.TrimSpace(v) != v:
		return fmt.Errorf("store: %s %q has leading or trailing white space", what, v)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return fmt.Errorf("store: %s %q has a control character", what, v)
	}
	return nil
}
