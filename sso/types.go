package sso

import (
	"errors"
	"time"
)

// Identity is the identity of one login as the relying party extracted it from
// verified claims. It carries no tokens.
type Identity struct {
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
	UserID  string `json:"user_id"`
	Email   string `json:"email"`
	// EmailVerified is nil when the provider did not send email_verified.
	EmailVerified *bool          `json:"email_verified,omitempty"`
	Name          string         `json:"name"`
	Groups        []string       `json:"groups"`
	Claims        map[string]any `json:"claims"`
}

// User is an existing ClearML user matched by issuer and user id.
type User struct {
	ID      string   `json:"id"`
	Company string   `json:"company"`
	Role    string   `json:"role"`
	Groups  []string `json:"groups"`
}

// Input is the per-login policy input. User is nil for a first login.
type Input struct {
	Identity Identity `json:"identity"`
	User     *User    `json:"user"`
}

// Directory is the ClearML state the policies consult: companies with their
// existing groups, and the sign-up whitelist.
type Directory struct {
	Companies map[string]Company `json:"companies"`
	Whitelist Whitelist          `json:"whitelist"`
}

// Company is a ClearML company and the names of its existing groups.
type Company struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups"`
}

// Whitelist maps emails and email domains to the company a new user joins.
type Whitelist struct {
	Emails  map[string]WhitelistEntry `json:"emails"`
	Domains map[string]WhitelistEntry `json:"domains"`
}

// WhitelistEntry is the company a whitelisted user signs up into.
type WhitelistEntry struct {
	Company string `json:"company"`
	IsAdmin bool   `json:"is_admin"`
}

// Decision is the value of data.clearml.sso.decision.
type Decision struct {
	Allow   bool   `json:"allow"`
	Signup  bool   `json:"signup"`
	Company string `json:"company"`
	// Role is nil when the user's role must stay as it is.
	Role       *string  `json:"role"`
	SyncGroups bool     `json:"sync_groups"`
	Groups     []string `json:"groups"`
	Reasons    []string `json:"reasons"`
	// Message is an operator's text for a deny from an extension rule,
	// shown on the denial page; "" otherwise.
	Message string `json:"message"`
	// DecisionID identifies the decision in the decision log; the plugin
	// sets it, and the host's login log line carries it. It is not part of
	// the policy's value.
	DecisionID string `json:"-"`
}

// Roles a decision may carry besides null.
const (
	RoleAdmin = "admin"
	RoleUser  = "user"
)

// Account is a ClearML user as the server shows it, with what its latest
// login decided.
type Account struct {
	ID          string `json:"id"`
	Email       string `json:"email"`
	Name        string `json:"name"`
	Company     string `json:"company"`
	CompanyName string `json:"company_name"`
	Role        string `json:"role"`
	// Groups are the user's ClearML groups, sorted.
	Groups []string `json:"groups"`
	// PingGroups are the groups the identity provider sent at the login
	// that started the session; Reasons are that login's reason codes.
	PingGroups []string `json:"ping_groups"`
	Reasons    []string `json:"reasons"`
}

// LoginState identifies the single-use login state a completed callback
// carried. A directory accepts each ID once, until Expires.
type LoginState struct {
	ID      string
	Expires time.Time
}

var (
	// ErrNotFound is returned by a directory when a user or session does
	// not exist.
	ErrNotFound = errors.New("sso: not found")
	// ErrReplayed is returned by a directory for a login state that was
	// used before.
	ErrReplayed = errors.New("sso: login state already used")
)
