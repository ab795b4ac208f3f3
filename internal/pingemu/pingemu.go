// Package pingemu is a Ping Identity emulator for tests, the demo and
// `pingauthz emulator`: an OpenID Connect provider speaking the PingOne (also
// on a custom domain) or the PingFederate dialect (paths, issuer shape, ID
// token claims) with a real HTML login form, the
// authorization code flow, PKCE, client authentication, userinfo and a JWKS.
//
// It binds to loopback only and is never a real IdP: passwords are compared in
// plain text, state lives in memory, and there is no refresh, revocation,
// introspection, consent, logout or single sign-on session. Faults switch on
// the misbehaviours a relying party must survive.
package pingemu

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/pingauthz/pingauthz/internal/config"
)

// Flavor selects the Ping product whose URLs and claims are emulated.
type Flavor string

const (
	// PingOne serves /<env>/as/authorize|token|userinfo|jwks with issuer
	// http://127.0.0.1:<port>/<env>/as and discovery under the issuer.
	PingOne Flavor = "pingone"
	// PingOneCustomDomain is PingOne behind a custom domain: /as/authorize|
	// token|userinfo|jwks with issuer http://127.0.0.1:<port>/as.
	PingOneCustomDomain Flavor = "pingone-custom-domain"
	// PingFederate serves /as/authorization.oauth2, /as/token.oauth2,
	// /idp/userinfo.openid and /pf/JWKS with the base URL as issuer.
	PingFederate Flavor = "pingfederate"
)

// PKCEMode is a client's PKCE enforcement, as PingOne names it.
type PKCEMode string

const (
	// PKCEOptional verifies PKCE when a challenge was sent; a missing method means plain.
	PKCEOptional PKCEMode = "optional"
	// PKCERequired rejects authorization requests without a code_challenge.
	PKCERequired PKCEMode = "required"
	// PKCES256Required rejects authorization requests without an S256 challenge.
	PKCES256Required PKCEMode = "s256_required"
)

// Client authentication methods accepted at the token endpoint.
const (
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
)

// DefaultEnvID is the PingOne environment id used when Options.EnvID is empty.
const DefaultEnvID = "5f1c1a7e-2b3d-4c8e-9a0f-6d2e8b4c1a90"

// codeTTL is the authorization code lifetime (Ping's default).
const codeTTL = 60 * time.Second

// accessTokenTTL is the lifetime of the opaque access tokens.
const accessTokenTTL = time.Hour

// Client is a registered OAuth client. It does not support public clients or
// JWT client authentication.
type Client struct {
	ID, Secret   string
	RedirectURIs []string // exact match enforced, except that a loopback http URI without a port matches any port (RFC 8252 section 7.3)
	AuthMethod   string   // AuthBasic (default) or AuthPost: enforced at the token endpoint
	PKCE         PKCEMode // default PKCEOptional
}

// User is an account that can sign on at the login form.
type User struct {
	Username string         `json:"username" yaml:"username"`
	Password string         `json:"password" yaml:"password"`
	Subject  string         `json:"sub" yaml:"sub"`       // default: DefaultSubject(Username)
	Claims   map[string]any `json:"claims" yaml:"claims"` // email, email_verified, name, given_name, family_name, preferred_username, anything
	Groups   []string       `json:"groups" yaml:"groups"`
}

// Faults are switches for tests; the zero value is a well-behaved provider.
type Faults struct {
	ClaimsOnlyInUserinfo bool          // ID token holds only iss, sub, aud (and azp), exp, iat, nonce, auth_time; everything else via userinfo
	GroupsClaim          string        // claim name carrying groups (default "groups")
	GroupsShape          string        // "array" (default) | "string" (the first group as a plain string) | "absent"
	GroupsAsDN           bool          // each group as an LDAP DN (GroupDN), as PingFederate's memberOf
	AudArrayWithAzp      bool          // aud = [client_id, "other-audience"], azp = client_id
	CallbackError        string        // authorize redirects back with error=<this>&error_description=...&state=...
	TokenStatus          int           // token endpoint answers this status (e.g. 500) with a JSON error body
	TokenDelay           time.Duration // token endpoint sleeps this long (or until the request context ends) before answering
	BadSignature         bool          // ID token signature corrupted
	WrongIssuer          bool
	WrongAudience        bool
	WrongNonce           bool
	MissingSub           bool
	MissingIat           bool
	Expired              bool // exp in the past (per Options.Now)
	UserinfoOtherSub     bool // userinfo answers with a different sub
	OmitKid              bool // ID token header without kid
	AlgNone              bool // unsigned ID token, alg "none"
	HS256                bool // ID token signed HS256 with the client secret; discovery then advertises HS256 too
	SignedUserinfo       bool // userinfo answered as application/jwt signed with the current key
	NoDiscovery          bool // discovery document answers 404
	ReusableCodes        bool // a code can be exchanged again (a provider that breaks RFC 6749 4.1.2), so the relying party's own single-use check is tested
}

// Group shapes for Faults.GroupsShape.
const (
	GroupsArray  = "array"
	GroupsString = "string"
	GroupsAbsent = "absent"
)

// Validate reports the first fault setting that cannot be served.
func (f Faults) Validate() error {
	switch f.GroupsShape {
	case "", GroupsArray, GroupsString, GroupsAbsent:
	default:
		return fmt.Errorf("pingemu: Faults.GroupsShape %q: want %q, %q or %q", f.GroupsShape, GroupsArray, GroupsString, GroupsAbsent)
	}
	if f.GroupsClaim != "" && reservedClaims[f.GroupsClaim] {
		return fmt.Errorf("pingemu: Faults.GroupsClaim %q is a reserved ID token claim", f.GroupsClaim)
	}
	if f.TokenStatus != 0 && (f.TokenStatus < 400 || f.TokenStatus > 599) {
		return fmt.Errorf("pingemu: Faults.TokenStatus %d: want 0 or an HTTP error status (400-599)", f.TokenStatus)
	}
	if f.TokenDelay < 0 {
		return fmt.Errorf("pingemu: Faults.TokenDelay %v is negative", f.TokenDelay)
	}
	for _, r := range f.CallbackError {
		// RFC 6749 section 5.2: error codes are printable ASCII without '"' and '\'.
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return fmt.Errorf("pingemu: Faults.CallbackError %q holds a character not allowed in an OAuth error code", f.CallbackError)
		}
	}
	return nil
}

func (f Faults) groupsClaim() string {
	if f.GroupsClaim == "" {
		return "groups"
	}
	return f.GroupsClaim
}

// Options configure Start.
type Options struct {
	Flavor     Flavor // default PingOne
	EnvID      string // PingOne environment id (default DefaultEnvID); unused by the other flavors
	Clients    []Client
	Users      []User
	Faults     Faults
	IDTokenTTL time.Duration // default 1h for PingOne, 5m for PingFederate
	Now        func() time.Time
	Addr       string // listen address, default "127.0.0.1:0"; must be a loopback address
}

// Server is a running emulator. Its methods are safe for concurrent use.
type Server struct {
	flavor Flavor
	envID  string
	ttl    time.Duration
	now    func() time.Time
	base   string // http://host:port
	srv    *http.Server
	mux    *http.ServeMux

	mu      sync.Mutex
	faults  Faults
	clients map[string]Client
	users   map[string]*User
	keys    keyring
	codes   map[string]*authCode
	tokens  map[string]*accessToken
	closed  bool
}

var envIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// Start validates opts, listens on a loopback address and serves the emulator
// until Close. It refuses a non-loopback Addr.
func Start(opts Options) (*Server, error) {
	s := &Server{
		flavor:  opts.Flavor,
		envID:   opts.EnvID,
		ttl:     opts.IDTokenTTL,
		now:     opts.Now,
		faults:  opts.Faults,
		clients: map[string]Client{},
		users:   map[string]*User{},
		codes:   map[string]*authCode{},
		tokens:  map[string]*accessToken{},
	}
	if s.flavor == "" {
		s.flavor = PingOne
	}
	if s.envID == "" {
		s.envID = DefaultEnvID
	}
	if err := checkFlavor(s.flavor, s.envID); err != nil {
		return nil, err
	}
	switch {
	case s.ttl < 0:
		return nil, fmt.Errorf("pingemu: Options.IDTokenTTL %v is negative", s.ttl)
	case s.ttl == 0 && s.flavor == PingFederate:
		s.ttl = 5 * time.Minute
	case s.ttl == 0:
		s.ttl = time.Hour
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := opts.Faults.Validate(); err != nil {
		return nil, err
	}
	for _, c := range opts.Clients {
		if err := s.addClient(c); err != nil {
			return nil, err
		}
	}
	if err := s.addUsers(opts.Users); err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	if _, err := s.RotateKey(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pingemu: listen on %s: %w", addr, err)
	}
	s.base = "http://" + ln.Addr().String()
	s.mux = s.routes()
	s.srv = &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// checkLoopback accepts "localhost" and loopback IP literals only.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("pingemu: Options.Addr %q: %w", addr, err)
	}
	if config.IsLoopback(host) {
		return nil
	}
	return fmt.Errorf("pingemu: Options.Addr %q is not a loopback address; the emulator never listens beyond this machine", addr)
}

// Close stops the server and drops open connections. It is safe to call twice.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	if err := s.srv.Close(); err != nil {
		return fmt.Errorf("pingemu: close: %w", err)
	}
	return nil
}

// URL returns the base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.base }

// Issuer returns the issuer the ID tokens carry (before any WrongIssuer fault).
func (s *Server) Issuer() string { return s.base + issuerPath(s.flavor, s.envID) }

// AuthorizeURL returns the authorization endpoint.
func (s *Server) AuthorizeURL() string { return s.base + s.path(epAuthorize) }

// TokenURL returns the token endpoint.
func (s *Server) TokenURL() string { return s.base + s.path(epToken) }

// UserinfoURL returns the userinfo endpoint.
func (s *Server) UserinfoURL() string { return s.base + s.path(epUserinfo) }

// JWKSURL returns the JWKS endpoint.
func (s *Server) JWKSURL() string { return s.base + s.path(epJWKS) }

// DiscoveryURL returns the OpenID configuration document's URL.
func (s *Server) DiscoveryURL() string { return s.base + s.path(epDiscovery) }

// Flavor returns the emulated product.
func (s *Server) Flavor() Flavor { return s.flavor }

// EnvID returns the PingOne environment id (also set, unused, for the other flavors).
func (s *Server) EnvID() string { return s.envID }

// SetFaults replaces the fault switches; requests already running may see
// either set. It panics on a setting Faults.Validate rejects.
func (s *Server) SetFaults(f Faults) {
	if err := f.Validate(); err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Faults returns the current fault switches.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// SetUserGroups replaces a user's groups; tokens issued later carry them.
func (s *Server) SetUserGroups(username string, groups []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[username]
	if !ok {
		return fmt.Errorf("pingemu: SetUserGroups: unknown user %q", username)
	}
	u.Groups = append([]string(nil), groups...)
	return nil
}

// AddClient registers another client while serving.
func (s *Server) AddClient(c Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addClient(c)
}

// Subject returns the sub a user's tokens carry.
func (s *Server) Subject(username string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[username]
	if !ok {
		return "", fmt.Errorf("pingemu: unknown user %q", username)
	}
	return u.Subject, nil
}

// Handler returns the emulator's HTTP handler (the one Start serves). Issuer
// and endpoint URLs stay those of the listener Start opened.
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) addClient(c Client) error {
	if c.ID == "" {
		return errors.New("pingemu: client with an empty ID")
	}
	if _, dup := s.clients[c.ID]; dup {
		return fmt.Errorf("pingemu: client %q registered twice", c.ID)
	}
	if c.Secret == "" {
		return fmt.Errorf("pingemu: client %q: Secret is empty (public clients are not emulated)", c.ID)
	}
	if len(c.RedirectURIs) == 0 {
		return fmt.Errorf("pingemu: client %q: RedirectURIs is empty", c.ID)
	}
	for _, r := range c.RedirectURIs {
		if err := checkRedirectURI(r); err != nil {
			return fmt.Errorf("pingemu: client %q: %w", c.ID, err)
		}
	}
	switch c.AuthMethod {
	case "":
		c.AuthMethod = AuthBasic
	case AuthBasic, AuthPost:
	default:
		return fmt.Errorf("pingemu: client %q: AuthMethod %q: want %q or %q", c.ID, c.AuthMethod, AuthBasic, AuthPost)
	}
	switch c.PKCE {
	case "":
		c.PKCE = PKCEOptional
	case PKCEOptional, PKCERequired, PKCES256Required:
	default:
		return fmt.Errorf("pingemu: client %q: PKCE %q: want %q, %q or %q", c.ID, c.PKCE, PKCEOptional, PKCERequired, PKCES256Required)
	}
	c.RedirectURIs = append([]string(nil), c.RedirectURIs...)
	s.clients[c.ID] = c
	return nil
}

// authMethods returns the sorted union of the clients' methods, or both.
func (s *Server) authMethods() []string {
	set := map[string]bool{}
	for _, c := range s.clients {
		set[c.AuthMethod] = true
	}
	if len(set) == 0 {
		return []string{AuthBasic, AuthPost}
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}
