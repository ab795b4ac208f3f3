// Package config reads the ClearML environment (CLEARML__... variables) that
// configures the Ping SSO provider, and validates it.
//
// Keys live under CLEARML__services__login__sso__oauth_client__ping__ and,
// for client_id, client_secret and default_company, under
// CLEARML__secure__login__sso__oauth_client__ping__. Values are parsed as
// the HOCON subset ParseValue describes. Load reports every problem at once,
// each naming its variable, and warns about unknown or misplaced keys. The
// client secret never appears in a message or in Summary. The package does
// not read configuration files.
package config

// Provider is the only place the provider's name is written.
const Provider = "ping"

// Config is the validated Ping SSO configuration.
type Config struct {
	AuthorizeURL   string
	AccessTokenURL string
	// CodeChallenge turns PKCE on; CodeChallengeMethod is "S256" or "plain".
	CodeChallenge       bool
	CodeChallengeMethod string
	Debug               bool
	Groups              Groups
	// Issuer, JWKSURL and UserinfoURL are empty when discovery supplies them.
	Issuer      string
	JWKSURL     string
	UserinfoURL string
	Scopes      []string
	Claims      Claims
	// RequireVerifiedEmail makes a missing email_verified claim count as
	// false for a whitelist sign-up (PingFederate often omits it).
	RequireVerifiedEmail bool
	// TokenEndpointAuthMethod is "client_secret_basic", "client_secret_post",
	// or empty to follow the discovery document.
	TokenEndpointAuthMethod string
	// PolicyDir holds operator override policies; empty means none.
	PolicyDir string
	// PolicyInsecureBuiltins names builtins withheld from policies (they
	// reach the network or the process environment) that policies may call
	// nonetheless.
	PolicyInsecureBuiltins []string
	// PolicyBundle is an OPA bundle (a path, or an http(s) URL polled for
	// updates) whose policies compose with the defaults as PolicyDir's do;
	// PolicyBundlePublicKey, a PEM public key or a path to one, makes its
	// signature required. PolicyBundleCache keeps the last good remote
	// bundle; empty means a directory under the user's cache directory.
	PolicyBundle          string
	PolicyBundlePublicKey string
	PolicyBundleCache     string
	// DecisionLog configures the decision log.
	DecisionLog DecisionLog

	ClientID     string
	ClientSecret string
	// DefaultCompany, when set, lets any new user sign up into that company.
	DefaultCompany string
}

// Groups configures group and role sync.
type Groups struct {
	Enabled                        bool
	Claim                          string
	CaseSensitive                  bool
	Admins                         []string
	ProhibitUserSignupIfNotInGroup bool
	FromDN                         bool
}

// DecisionLog configures the decision log: each sink is off until set.
type DecisionLog struct {
	// Console writes one "decision log" line per decision to the log.
	Console bool
	// File appends each event as a JSON line.
	File string
	// URL is an OPA decision-log collector (events go to URL/logs).
	URL string
	// ServerID labels the events; empty means the host name.
	ServerID string
}

// Enabled reports whether any sink is on.
func (d DecisionLog) Enabled() bool { return d.Console || d.File != "" || d.URL != "" }

// Claims names the claims an identity is read from.
type Claims struct {
	UserID string
	Email  string
	Name   string
}

// Default returns the configuration every unset variable falls back to. Its
// required fields are empty.
func Default() Config {
	return Config{
		CodeChallengeMethod: "S256",
		Groups: Groups{
			Claim:         "groups",
			CaseSensitive: true,
		},
		Scopes: []string{"openid", "profile", "email"},
		Claims: Claims{UserID: "sub", Email: "email", Name: "name"},
	}
}
