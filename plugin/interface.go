package plugin

import (
	"context"

	"github.com/pingauthz/pingauthz/sso"
)

// Authenticator is what the plugin serves and the host calls. Every method
// takes a context whose deadline bounds the call.
type Authenticator interface {
	// Info describes the provider and its effective configuration.
	Info(ctx context.Context) (*Info, error)
	// Begin starts a login: it returns the authorize URL and a sealed,
	// single-use login state for the caller to keep (in a cookie).
	Begin(ctx context.Context, req *BeginRequest) (*BeginResponse, error)
	// Complete finishes a login from the callback's query parameters and the
	// sealed state, and decides it: once the identity is verified it calls
	// lookup, once, for the existing user the identity names (nil for a
	// first login) and evaluates the decision policy on both. It returns
	// the identity (without its claims) and the decision. When lookup
	// fails, Complete ends with that error and decides nothing.
	Complete(ctx context.Context, req *CompleteRequest, lookup UserLookup) (*CompleteResponse, error)
	// SetDirectory replaces the directory the decisions consult.
	SetDirectory(ctx context.Context, dir *sso.Directory) error
	// Decide evaluates the decision policy on an input given whole, for
	// tools (ping check, the demo); a login's decision comes from Complete.
	Decide(ctx context.Context, in *sso.Input) (*sso.Decision, error)
}

// UserLookup returns the existing user an identity names (matched by
// issuer and user id), or nil for a first login. It must not keep or
// change id.
type UserLookup func(ctx context.Context, id *sso.Identity) (*sso.User, error)

// Info describes a running plugin.
type Info struct {
	Provider     string
	CallbackPath string
	// Config is the effective configuration with secrets masked.
	Config map[string]string
	// PolicyRevision identifies the active policy set; it changes when
	// the plugin reloads its policies.
	PolicyRevision string
	// BundleRevision is the manifest revision of the active policy bundle;
	// "" without one.
	BundleRevision string
	// Stats are the plugin's counters, for the host's metrics.
	Stats Stats
}

// Stats are a running plugin's counters since it started.
type Stats struct {
	// PolicyReloads counts policy sets activated after the first;
	// PolicyReloadFailures counts sets rejected while the last good one
	// stayed active, and PolicyLastError says why the latest was rejected
	// ("" once a later set is activated).
	PolicyReloads        uint64
	PolicyReloadFailures uint64
	PolicyLastError      string
	// DecisionLogEvents counts decisions logged, DecisionLogMaskFailures
	// those logged with the input erased because the mask policy failed.
	DecisionLogEvents       uint64
	DecisionLogMaskFailures uint64
	// DecisionLogBuffered is the number of events waiting for upload to the
	// collector; DecisionLogDropped counts events dropped from a full buffer.
	DecisionLogBuffered int64
	DecisionLogDropped  uint64
	// DecisionLogChunksUploaded and DecisionLogUploadFailures count the
	// collector uploads that succeeded and failed.
	DecisionLogChunksUploaded uint64
	DecisionLogUploadFailures uint64
	// Goroutines is the number of goroutines in the plugin process.
	Goroutines int64
}

// BeginRequest asks for an authorize URL.
type BeginRequest struct {
	// RedirectURI is the absolute callback URL registered at the provider.
	RedirectURI string
	// ReturnTo is the local path to return to after login.
	ReturnTo string
}

// BeginResponse carries the authorize URL and the sealed login state.
type BeginResponse struct {
	AuthURL     string
	SealedState string
}

// CompleteRequest carries the callback of a login.
type CompleteRequest struct {
	RedirectURI string
	SealedState string
	// Query holds the callback's query parameters (state, code, error,
	// error_description, iss), first value of each.
	Query map[string]string
}

// CompleteResponse is a verified and decided login.
type CompleteResponse struct {
	// Identity is the verified identity; its Claims are not sent to the
	// host, which does not read them.
	Identity sso.Identity
	// Decision is the policy's decision on the identity and the user
	// lookup returned.
	Decision *sso.Decision
	ReturnTo string
	// State is the single-use login state the callback carried. The plugin
	// does not remember used states: the host's directory consumes State
	// when it applies the login, and refuses it a second time.
	State sso.LoginState
}
