package ping

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/pingauthz/pingauthz/plugin"
)

// Error is a failed login step: the kind and user-safe message the host sees
// (as a *plugin.LoginError) plus the internal cause, which is only logged.
type Error struct {
	Kind    plugin.ErrorKind
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "ping: " + e.Message
	}
	return "ping: " + e.Message + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// LoginError returns the part of e that may cross the plugin boundary.
func (e *Error) LoginError() *plugin.LoginError {
	return &plugin.LoginError{Kind: e.Kind, Message: e.Message}
}

func newError(kind plugin.ErrorKind, msg string, cause error) *Error {
	return &Error{Kind: kind, Message: msg, Err: cause}
}

// toLoginError turns any error into the *plugin.LoginError the host expects;
// an error that is not an *Error becomes KindInternal with a generic message.
func toLoginError(err error) *plugin.LoginError {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.LoginError()
	}
	var le *plugin.LoginError
	if errors.As(err, &le) {
		return le
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		return &plugin.LoginError{Kind: plugin.KindInternal, Message: ce.Error()}
	}
	return &plugin.LoginError{Kind: plugin.KindInternal, Message: "internal error in the Ping login"}
}

// ConfigError is a configuration value the relying party cannot work with.
// Variable is the full environment variable name.
type ConfigError struct {
	Variable string
	Reason   string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("ping: %s: %s", e.Variable, e.Reason)
}

// DiscoveryError says why the provider metadata could not be resolved. It
// names the discovery URL and, when configuration must change, the variables.
type DiscoveryError struct {
	URL string
	// Transient is true when retrying later may succeed (network, 5xx).
	Transient bool
	Reason    string
	Err       error
}

func (e *DiscoveryError) Error() string {
	s := "ping: discovery: " + e.Reason
	if e.URL != "" {
		s = "ping: discovery " + e.URL + ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *DiscoveryError) Unwrap() error { return e.Err }

// ClaimError is a claim whose value cannot be turned into the identity.
type ClaimError struct {
	Claim  string
	Reason string
}

func (e *ClaimError) Error() string {
	return fmt.Sprintf("ping: claim %q: %s", e.Claim, e.Reason)
}

// ProviderError is an error the identity provider put on the callback.
type ProviderError struct {
	Code        string
	Description string
}

func (e *ProviderError) Error() string {
	if e.Description == "" {
		return "ping: provider error " + e.Code
	}
	return "ping: provider error " + e.Code + ": " + e.Description
}

// Causes a failed check wraps; tests and callers of the package-internal
// flow tell them apart with errors.Is.
var (
	errStateMalformed    = errors.New("login state is missing or cannot be opened")
	errStateExpired      = errors.New("login state expired")
	errStateMismatch     = errors.New("callback state does not match the login state")
	errRedirectMismatch  = errors.New("redirect URI differs from the one the login began with")
	errCallbackIssuer    = errors.New("callback iss differs from the issuer")
	errCallbackNoIssuer  = errors.New("callback has no iss although the provider advertises it")
	errNoCode            = errors.New("callback has no code")
	errDuplicateParam    = errors.New("callback repeats a parameter")
	errNoIDToken         = errors.New("token response has no id_token")
	errTokenType         = errors.New("token response token_type is not Bearer")
	errAlgNone           = errors.New("id token is unsigned (alg none)")
	errAlgNotAllowed     = errors.New("id token signing algorithm not allowed")
	errSignature         = errors.New("signature does not verify")
	errKidAbsentMultiple = errors.New("token has no kid and the JWKS holds several usable keys")
	errUnknownKid        = errors.New("no usable key in the JWKS for the token's kid")
	errNoUsableKey       = errors.New("no usable key in the JWKS")
	errIssuerMismatch    = errors.New("id token iss differs from the issuer")
	errAudience          = errors.New("id token aud does not hold the client id")
	errAzp               = errors.New("id token azp differs from the client id")
	errNonce             = errors.New("id token nonce does not match")
	errMissingSub        = errors.New("id token has no sub")
	errMissingIat        = errors.New("id token has no iat")
	errMissingExp        = errors.New("id token has no exp")
	errIatFuture         = errors.New("id token iat is in the future")
	errExpired           = errors.New("id token expired")
	errNotYetValid       = errors.New("id token nbf is in the future")
	errAtHash            = errors.New("id token at_hash does not match the access token")
	errUserinfoSub       = errors.New("userinfo sub differs from the id token sub")
	errUserinfoStatus    = errors.New("userinfo endpoint refused the request")
	errUserinfoBody      = errors.New("userinfo response is malformed")
)

// sanitize makes provider-supplied text safe to show and log: printable
// characters only, one line, at most max runes.
func sanitize(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n >= max {
			b.WriteString("…")
			break
		}
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteRune(' ')
		case !unicode.IsPrint(r):
			continue
		default:
			b.WriteRune(r)
		}
		n++
	}
	return strings.TrimSpace(b.String())
}
