package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/plugin"
)

// CallbackPath is where the provider sends the browser back after a login.
const CallbackPath = "/callback_ping"

const (
	stateCookieName   = "pingauthz_login"
	sessionCookieName = "pingauthz_session"
	// stateCookieMaxAge matches the lifetime of the sealed login state.
	stateCookieMaxAge = 600
	// maxCookieValue keeps a cookie under the 4 KiB browsers accept.
	maxCookieValue = 3800
	// DefaultSessionTTL is the session lifetime when HandlerConfig leaves it zero.
	DefaultSessionTTL = 12 * time.Hour
)

// callbackParams are the query parameters of a callback passed to Complete.
var callbackParams = []string{"state", "code", "error", "error_description", "iss"}

// HandlerConfig configures NewHandler.
type HandlerConfig struct {
	// Auth is the plugin (usually a *Plugin).
	Auth plugin.Authenticator
	// Directory is the server's user and session store.
	Directory Directory
	// PublicURL is the server's external origin, e.g. http://127.0.0.1:8080,
	// with no path. The callback URL is PublicURL + CallbackPath. Cookies
	// are Secure when it is https. Plain http is refused for a host that is
	// not loopback unless InsecureHTTP is set.
	PublicURL string
	// InsecureHTTP allows an http PublicURL on a host that is not
	// loopback. The session and login-state cookies then cannot be Secure:
	// anyone on the network path can read and replay them.
	InsecureHTTP bool
	// Logger receives failures in detail; nil means no logging.
	Logger hclog.Logger
	// SessionTTL is the session lifetime; zero means DefaultSessionTTL.
	SessionTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RateLimit, when set, limits how often each client may call
	// /login/ping and /callback_ping; nil means no limit.
	RateLimit *RateLimit
	// OnDirectoryChange, when set, is called after Login fails so a policy
	// directory that may be stale (a company or group removed since the
	// last push) is pushed again. A login never changes the policy
	// directory itself: it only creates users and memberships.
	OnDirectoryChange func(ctx context.Context)
	// Observer, when set, is told how long each phase of a login takes
	// and how each callback ends; nil means nobody is told.
	Observer Observer
}

// ParsePublicURL parses a server's external origin: http(s)://host[:port]
// with no user, path, query or fragment. It does not resolve the host.
func ParsePublicURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("want http(s)://host[:port] with no path, query or fragment")
	}
	return u, nil
}

// handler serves the login pages and API.
type handler struct {
	cfg           HandlerConfig
	log           hclog.Logger
	origin        string
	redirectURI   string
	secure        bool
	sessionCookie string
	// stateCookie and statePath name the login-state cookie and its path.
	stateCookie, statePath string
	limiter                *limiter
	obs                    Observer
	mux                    *http.ServeMux
}

// NewHandler returns the HTTP handler for GET /, GET /login/ping,
// GET /callback_ping, GET /api/me and POST /logout. It does not serve
// anything else (other paths answer 404). Only the two sign-in paths are
// rate-limited, and only when HandlerConfig.RateLimit is set.
//
// Logout accepts a POST only when its Origin (or, without one, its Referer)
// is PublicURL's origin; a request with neither is accepted because the
// session cookie is SameSite=Lax, so browsers never send it with a
// cross-site POST.
func NewHandler(cfg HandlerConfig) (http.Handler, error) {
	if cfg.Auth == nil {
		return nil, errors.New("host: HandlerConfig.Auth is nil")
	}
	if cfg.Directory == nil {
		return nil, errors.New("host: HandlerConfig.Directory is nil")
	}
	u, err := ParsePublicURL(cfg.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("host: HandlerConfig.PublicURL %q: %w", cfg.PublicURL, err)
	}
	plainRemote := u.Scheme == "http" && !config.IsLoopback(u.Hostname())
	if plainRemote && !cfg.InsecureHTTP {
		return nil, fmt.Errorf("host: HandlerConfig.PublicURL %q is plain http on a host that is not loopback; "+
			"use https, or set InsecureHTTP to accept cookies sent in clear", cfg.PublicURL)
	}
	if cfg.SessionTTL < 0 {
		return nil, fmt.Errorf("host: HandlerConfig.SessionTTL %s is negative", cfg.SessionTTL)
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &handler{
		cfg:           cfg,
		log:           cfg.Logger,
		origin:        u.Scheme + "://" + u.Host,
		secure:        u.Scheme == "https",
		sessionCookie: sessionCookieName,
		stateCookie:   stateCookieName,
		statePath:     CallbackPath,
		obs:           cfg.Observer,
	}
	if h.obs == nil {
		h.obs = nopObserver{}
	}
	if h.log == nil {
		h.log = hclog.NewNullLogger()
	}
	if plainRemote {
		h.log.Warn("serving over plain http on a host that is not loopback: the session cookie cannot be Secure, "+
			"so anyone on the network path can read and reuse it; use an https public URL", "public_url", h.origin)
	}
	if cfg.RateLimit != nil {
		rl := *cfg.RateLimit
		rl.TrustedProxies = slices.Clone(rl.TrustedProxies)
		if err := rl.validate(); err != nil {
			return nil, fmt.Errorf("host: HandlerConfig.%w", err)
		}
		h.limiter = newLimiter(rl, cfg.Now, h.log)
	}
	h.redirectURI = h.origin + CallbackPath
	if h.secure {
		// The __Host- prefix pins a cookie to this exact origin, so a
		// sibling subdomain cannot plant one (login CSRF); it requires
		// Path=/.
		h.sessionCookie = "__Host-" + sessionCookieName
		h.stateCookie, h.statePath = "__Host-"+stateCookieName, "/"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.home)
	mux.HandleFunc("GET /login/ping", h.limited(h.login))
	mux.HandleFunc("GET "+CallbackPath, h.limited(h.callback))
	mux.HandleFunc("GET /api/me", h.me)
	mux.HandleFunc("POST /logout", h.logout)
	h.mux = mux
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

// login starts a login and redirects the browser to the provider.
func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	returnTo := SafeReturnTo(r.URL.Query().Get("return_to"))
	start := time.Now()
	resp, err := h.cfg.Auth.Begin(r.Context(), &plugin.BeginRequest{
		RedirectURI: h.redirectURI,
		ReturnTo:    returnTo,
	})
	h.obs.Phase(PhaseBegin, time.Since(start))
	if err != nil {
		h.fail(w, "begin", err, false)
		return
	}
	if !validCookieValue(resp.SealedState) || resp.AuthURL == "" {
		h.log.Error("begin: plugin returned an unusable login", "state_len", len(resp.SealedState), "auth_url_empty", resp.AuthURL == "")
		h.renderError(w, http.StatusBadGateway, "Sign-in failed", "The sign-in service answered incorrectly. Please try again later.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     h.stateCookie,
		Value:    resp.SealedState,
		Path:     h.statePath,
		MaxAge:   stateCookieMaxAge,
		HttpOnly: true,
		Secure:   h.secure,
		SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, resp.AuthURL, http.StatusFound)
}

// callback completes a login, applies the decision and starts a session.
func (h *handler) callback(w http.ResponseWriter, r *http.Request) {
	// The mux routes HEAD to GET handlers; a HEAD must not spend the
	// single-use login state.
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// The callback URL carries the code and state: no page or redirect
	// from here may send it on, or be cached.
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	ctx := r.Context()
	c, err := r.Cookie(h.stateCookie)
	// The state is single-use: clear it whatever happens next.
	http.SetCookie(w, &http.Cookie{
		Name: h.stateCookie, Path: h.statePath, MaxAge: -1,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
	if err != nil || c.Value == "" {
		h.obs.Login(LoginResult{Outcome: OutcomeFailed, Reason: FailNoState})
		h.log.Info("callback without login state cookie")
		h.renderError(w, http.StatusBadRequest, "Sign-in failed",
			"The sign-in has expired or was started in another browser. Please log in again.")
		return
	}
	q := r.URL.Query()
	params := make(map[string]string, len(callbackParams))
	for _, k := range callbackParams {
		if v := q.Get(k); v != "" {
			params[k] = v
		}
	}
	// One call of the plugin finishes and decides the login; the directory
	// is asked for the existing user in the middle of it.
	start := time.Now()
	looked, lookupFailed := false, false
	done, err := h.cfg.Auth.Complete(ctx, &plugin.CompleteRequest{
		RedirectURI: h.redirectURI,
		SealedState: c.Value,
		Query:       params,
	}, func(ctx context.Context, id *sso.Identity) (*sso.User, error) {
		looked = true
		start = h.phase(PhaseExchange, start)
		user, err := h.cfg.Directory.FindUser(ctx, id.Issuer, id.UserID)
		start = h.phase(PhaseLookup, start)
		if errors.Is(err, sso.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			lookupFailed = true
			h.log.Error("callback: find user", "issuer", id.Issuer, "user_id", id.UserID, "error", err)
		}
		return user, err
	})
	if lookupFailed {
		h.failed(nil, FailLookup)
		h.renderError(w, http.StatusInternalServerError, "Sign-in failed", "Sign-in could not be completed. Please try again later.")
		return
	}
	if looked {
		start = h.phase(PhaseDecide, start)
	} else {
		start = h.phase(PhaseExchange, start)
	}
	if err != nil {
		h.fail(w, "complete", err, true)
		return
	}
	id, d := done.Identity, done.Decision
	if !d.Allow {
		h.obs.Login(LoginResult{Outcome: OutcomeDenied, Reason: decisionReason(d), Decision: d})
		h.log.Info("login denied", "issuer", id.Issuer, "user_id", id.UserID, "reasons", d.Reasons, "message", d.Message, "decision_id", d.DecisionID)
		h.renderPage(w, http.StatusForbidden, denyTemplate, newDenyPage(&id, d))
		return
	}
	acct, token, err := h.cfg.Directory.Login(ctx, done.State, &id, d, h.cfg.SessionTTL)
	h.phase(PhaseApply, start)
	if errors.Is(err, sso.ErrReplayed) {
		h.failed(d, FailReplayed)
		h.log.Info("callback: login state replayed", "issuer", id.Issuer, "user_id", id.UserID)
		h.renderError(w, http.StatusBadRequest, "Sign-in failed", "This sign-in was already completed. Please log in again.")
		return
	}
	if err != nil {
		h.failed(d, FailApply)
		h.log.Error("callback: apply decision", "issuer", id.Issuer, "user_id", id.UserID, "reasons", d.Reasons, "decision_id", d.DecisionID, "error", err)
		if h.cfg.OnDirectoryChange != nil {
			h.cfg.OnDirectoryChange(context.WithoutCancel(ctx))
		}
		h.renderError(w, http.StatusInternalServerError, "Sign-in failed", "Your account could not be updated. Please try again later.")
		return
	}
	if !validCookieValue(token) {
		h.failed(d, plugin.KindInternal.String())
		h.log.Error("callback: directory returned a session token unusable as a cookie", "account", acct.ID)
		_ = h.cfg.Directory.DeleteSession(context.WithoutCancel(ctx), token)
		h.renderError(w, http.StatusInternalServerError, "Sign-in failed", "Sign-in could not be completed. Please try again later.")
		return
	}
	h.obs.Login(LoginResult{Outcome: OutcomeAllowed, Reason: decisionReason(d), Decision: d})
	h.log.Info("login", "account", acct.ID, "signup", d.Signup, "reasons", d.Reasons, "decision_id", d.DecisionID)
	http.SetCookie(w, h.sessionCookieFor(token))
	http.Redirect(w, r, SafeReturnTo(done.ReturnTo), http.StatusSeeOther)
}

// phase reports the phase that began at start and ended now, and returns now.
func (h *handler) phase(p Phase, start time.Time) time.Time {
	now := time.Now()
	h.obs.Phase(p, now.Sub(start))
	return now
}

// failed reports a callback that ended before a decision was applied;
// d is the decision when one was made.
func (h *handler) failed(d *sso.Decision, reason string) {
	h.obs.Login(LoginResult{Outcome: OutcomeFailed, Reason: reason, Decision: d})
}

// sessionCookieFor returns the session cookie carrying token.
func (h *handler) sessionCookieFor(token string) *http.Cookie {
	return &http.Cookie{
		Name:     h.sessionCookie,
		Value:    token,
		Path:     "/",
		MaxAge:   int(h.cfg.SessionTTL / time.Second),
		Expires:  h.cfg.Now().Add(h.cfg.SessionTTL),
		HttpOnly: true,
		Secure:   h.secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// account returns the account of the request's session, nil without one.
func (h *handler) account(r *http.Request) (*sso.Account, error) {
	c, err := r.Cookie(h.sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	a, err := h.cfg.Directory.SessionAccount(r.Context(), c.Value)
	if errors.Is(err, sso.ErrNotFound) {
		return nil, nil
	}
	return a, err
}

// home shows the signed-in account or a login link.
func (h *handler) home(w http.ResponseWriter, r *http.Request) {
	a, err := h.account(r)
	if err != nil {
		h.log.Error("home: session lookup", "error", err)
		h.renderError(w, http.StatusInternalServerError, "Error", "Your session could not be read. Please try again later.")
		return
	}
	title := "pingauthz"
	if a != nil {
		title = "Signed in"
	}
	h.renderPage(w, http.StatusOK, homeTemplate, newHomePage(title, a))
}

// me returns the session's account as JSON.
func (h *handler) me(w http.ResponseWriter, r *http.Request) {
	a, err := h.account(r)
	switch {
	case err != nil:
		h.log.Error("api/me: session lookup", "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	case a == nil:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "not logged in"})
	default:
		out := *a
		for _, l := range []*[]string{&out.Groups, &out.PingGroups, &out.Reasons} {
			if *l == nil {
				*l = []string{}
			}
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// logout ends the session and returns to the home page.
func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	if !h.sameOrigin(r) {
		h.log.Warn("logout: cross-origin request refused", "origin", r.Header.Get("Origin"))
		h.renderError(w, http.StatusForbidden, "Forbidden", "This request did not come from this site.")
		return
	}
	c, cerr := r.Cookie(h.sessionCookie)
	http.SetCookie(w, &http.Cookie{
		Name: h.sessionCookie, Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
	if cerr == nil && c.Value != "" {
		if err := h.cfg.Directory.DeleteSession(r.Context(), c.Value); err != nil {
			h.log.Error("logout: delete session", "error", err)
			h.renderError(w, http.StatusInternalServerError, "Error", "Logging out failed. Please try again.")
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// sameOrigin reports whether a state-changing request may proceed: its
// Sec-Fetch-Site, Origin or Referer, when present, must name this origin.
func (h *handler) sameOrigin(r *http.Request) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		return o == h.origin
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		return err == nil && u.Scheme+"://"+u.Host == h.origin
	}
	return true
}

// fail answers a failed plugin call with a page matching the failure and
// logs the detail. Only LoginError messages reach the page. A failure that
// ends a callback (ends) is reported to the Observer first, with the
// LoginError's kind or a Fail code as its reason.
func (h *handler) fail(w http.ResponseWriter, op string, err error, ends bool) {
	const retry = "Please try again in a moment."
	const internal = "Sign-in failed because of an internal error. Please try again later."
	code, title, msg, reason := http.StatusBadGateway, "Sign-in failed", internal, FailPluginError
	var le *plugin.LoginError
	switch {
	case errors.As(err, &le):
		h.log.Info("login failed", "op", op, "kind", le.Kind.String(), "message", le.Message)
		reason, msg = le.Kind.String(), le.Message
		switch le.Kind {
		case plugin.KindInvalidState, plugin.KindProvider, plugin.KindInvalidInput:
			code = http.StatusBadRequest
		case plugin.KindVerification:
			code = http.StatusBadGateway
		case plugin.KindUnavailable:
			code, title = http.StatusServiceUnavailable, "Sign-in unavailable"
		default:
			code, msg = http.StatusInternalServerError, internal
		}
	case errors.Is(err, ErrUnavailable) || status.Code(err) == codes.Unavailable:
		h.log.Error("sign-in service unavailable", "op", op, "error", err)
		code, title, reason = http.StatusServiceUnavailable, "Sign-in unavailable", FailPluginUnavailable
		msg = "The sign-in service is temporarily unavailable. " + retry
	case errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded:
		h.log.Error("sign-in service timed out", "op", op, "error", err)
		code, title, reason = http.StatusGatewayTimeout, "Sign-in unavailable", FailPluginTimeout
		msg = "The sign-in service did not answer in time. " + retry
	default:
		h.log.Error("sign-in service failed", "op", op, "error", err)
	}
	if ends {
		h.failed(nil, reason)
	}
	h.renderError(w, code, title, msg)
}

// writeJSON writes v as a JSON response that is never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// validCookieValue reports whether v can travel in a cookie unchanged.
func validCookieValue(v string) bool {
	if v == "" || len(v) > maxCookieValue {
		return false
	}
	for i := 0; i < len(v); i++ {
		b := v[i]
		if b <= 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' || b == ',' {
			return false
		}
	}
	return true
}
