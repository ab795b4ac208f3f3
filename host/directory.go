package host

import (
	"context"
	"errors"
	"time"

	"github.com/pingauthz/pingauthz/rego"
)

// ErrNotFound is returned by a Directory when a user or session does not exist.
var ErrNotFound = errors.New("host: not found")

// Account is a ClearML user as the server shows it.
type Account struct {
	ID      string   `json:"id"`
	Email   string   `json:"email"`
	Name    string   `json:"name"`
	Company string   `json:"company"`
	Role    string   `json:"role"`
	Groups  []string `json:"groups"`
}

// Directory is the server's user store as the login handlers need it.
type Directory interface {
	// FindUser returns the user matched by issuer and user id, or ErrNotFound.
	FindUser(ctx context.Context, issuer, userID string) (*rego.User, error)
	// Login applies an allowing decision for an identity and starts a
	// session for the account, in one transaction: it creates the user on
	// sign-up (or finds the one a concurrent login created), sets the role
	// when it is not nil, adds the decided groups and removes only the
	// SSO-granted memberships no longer decided. It returns the account and
	// the session token. It changes nothing when it fails.
	Login(ctx context.Context, id *rego.Identity, d *rego.Decision, ttl time.Duration) (*Account, string, error)
	// SessionAccount returns the account of a live session, or ErrNotFound.
	SessionAccount(ctx context.Context, token string) (*Account, error)
	// DeleteSession ends a session; ending an unknown one is not an error.
	DeleteSession(ctx context.Context, token string) error
}
