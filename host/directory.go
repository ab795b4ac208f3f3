package host

import (
	"context"
	"time"

	"github.com/pingauthz/pingauthz/sso"
)

// Directory is the server's user store as the login handlers need it.
type Directory interface {
	// FindUser returns the user matched by issuer and user id, or sso.ErrNotFound.
	FindUser(ctx context.Context, issuer, userID string) (*sso.User, error)
	// Login applies an allowing decision for an identity and starts a
	// session for the account, in one transaction: it consumes the login
	// state (a state used before fails with sso.ErrReplayed; a record of
	// it is kept until state.Expires), creates the user on sign-up (or
	// finds the one a concurrent login created), sets the role when it is
	// not nil, adds the decided groups and removes only the SSO-granted
	// memberships no longer decided. The session remembers the identity's
	// groups and the decision's reasons for the account page. It returns
	// the account and the session token. It changes nothing when it fails.
	Login(ctx context.Context, state sso.LoginState, id *sso.Identity, d *sso.Decision, ttl time.Duration) (*sso.Account, string, error)
	// SessionAccount returns the account of a live session, or sso.ErrNotFound.
	SessionAccount(ctx context.Context, token string) (*sso.Account, error)
	// DeleteSession ends a session; ending an unknown one is not an error.
	DeleteSession(ctx context.Context, token string) error
}
