package plugin

import "fmt"

// ErrorKind tells login failures apart across the RPC boundary.
type ErrorKind int

// The kinds of LoginError.
const (
	// KindInternal is any failure not listed below.
	KindInternal ErrorKind = iota
	// KindInvalidState: the login state is missing, tampered, mismatched,
	// replayed or expired.
	KindInvalidState
	// KindProvider: the provider answered the callback with an error.
	KindProvider
	// KindVerification: the code exchange or a token check failed.
	KindVerification
	// KindUnavailable: the provider could not be reached in time.
	KindUnavailable
	// KindInvalidInput: a request to the plugin was malformed.
	KindInvalidInput
)

func (k ErrorKind) String() string {
	switch k {
	case KindInvalidState:
		return "invalid_state"
	case KindProvider:
		return "provider_error"
	case KindVerification:
		return "verification_failed"
	case KindUnavailable:
		return "provider_unavailable"
	case KindInvalidInput:
		return "invalid_input"
	default:
		return "internal"
	}
}

// LoginError is a failure the host can act on. Message is safe to show to
// the user: it never holds secrets, codes or tokens.
type LoginError struct {
	Kind    ErrorKind
	Message string
}

func (e *LoginError) Error() string {
	return fmt.Sprintf("pingauthz: %s: %s", e.Kind, e.Message)
}
