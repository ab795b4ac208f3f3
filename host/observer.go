package host

import (
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/plugin"
)

// Observer is told how logins go, for example to keep metrics. The handler
// calls it on the request's goroutine before it answers, so an observer
// must be safe for concurrent use and return quickly. It gets codes, never
// a user's email, name or id. This package implements none: it links no
// metrics library.
type Observer interface {
	// Phase reports how long one phase of a login took, whether or not
	// the phase succeeded.
	Phase(p Phase, d time.Duration)
	// Login reports how a callback ended.
	Login(r LoginResult)
	// RateLimited reports a sign-in request refused by the rate limit;
	// path is "/login/ping" or CallbackPath.
	RateLimited(path string)
}

// Phase names a timed step of a login.
type Phase string

// The phases of a login, in order.
const (
	// PhaseBegin is the plugin's Begin: the authorize URL and the sealed
	// login state.
	PhaseBegin Phase = "begin"
	// PhaseExchange is the first part of the plugin's Complete, up to the
	// user lookup: the state check, the code exchange, and the ID token and
	// userinfo verification.
	PhaseExchange Phase = "exchange"
	// PhaseLookup is the directory's FindUser.
	PhaseLookup Phase = "lookup"
	// PhaseDecide is the rest of the plugin's Complete, after the lookup:
	// the policy evaluation and its answer.
	PhaseDecide Phase = "decide"
	// PhaseApply is the directory's Login: the decision applied and the
	// session opened in one transaction.
	PhaseApply Phase = "apply"
)

// Phases lists every Phase in login order.
func Phases() []Phase {
	return []Phase{PhaseBegin, PhaseExchange, PhaseLookup, PhaseDecide, PhaseApply}
}

// Outcome is how a callback ended.
type Outcome string

// The outcomes of a callback.
const (
	// OutcomeAllowed: the decision allowed the login and a session started.
	OutcomeAllowed Outcome = "allowed"
	// OutcomeDenied: the decision denied the login.
	OutcomeDenied Outcome = "denied"
	// OutcomeFailed: the login ended before a decision was applied; the
	// reason is a Fail code.
	OutcomeFailed Outcome = "failed"
)

// Reasons of a failed login: one of these, or the name of a
// plugin.ErrorKind (invalid_state, provider_error, verification_failed,
// provider_unavailable, invalid_input, internal) for a login error the
// plugin returned.
const (
	// FailNoState: the callback came without the login-state cookie.
	FailNoState = "no_login_state"
	// FailPluginUnavailable: the plugin was down or restarting.
	FailPluginUnavailable = "plugin_unavailable"
	// FailPluginTimeout: a call to the plugin ended at its deadline.
	FailPluginTimeout = "plugin_timeout"
	// FailPluginError: a call to the plugin failed otherwise.
	FailPluginError = "plugin_error"
	// FailLookup: the directory could not look the user up.
	FailLookup = "lookup_failed"
	// FailReplayed: the login state was used before.
	FailReplayed = "replayed"
	// FailApply: the directory could not apply the decision.
	FailApply = "apply_failed"
)

// FailReasons lists the Fail codes and the plugin's error kinds: every
// reason a failed login can have.
func FailReasons() []string {
	out := []string{FailNoState, FailPluginUnavailable, FailPluginTimeout, FailPluginError, FailLookup, FailReplayed, FailApply}
	for k := plugin.KindInternal; k <= plugin.KindInvalidInput; k++ {
		out = append(out, k.String())
	}
	return out
}

// LoginResult is one ended callback as an Observer sees it.
type LoginResult struct {
	Outcome Outcome
	// Reason is one code: for an allowed login the decision's first reason
	// (its login: or signup: code), for a denied one its deny code (or
	// policy_error), for a failed one a Fail code or a plugin error kind.
	Reason string
	// Decision is the policy's decision; nil when none was made.
	Decision *sso.Decision
}

// nopObserver is the Observer of a handler configured without one.
type nopObserver struct{}

func (nopObserver) Phase(Phase, time.Duration) {}
func (nopObserver) Login(LoginResult)          {}
func (nopObserver) RateLimited(string)         {}

// decisionReason is the reason a LoginResult carries for decision d.
func decisionReason(d *sso.Decision) string {
	if len(d.Reasons) == 0 {
		return ""
	}
	return d.Reasons[0]
}
