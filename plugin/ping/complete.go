package ping

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/plugin"
)

// Completion is a verified login.
type Completion struct {
	Identity *sso.Identity
	// ReturnTo is the local path the login began with.
	ReturnTo string
	// State identifies the login state; the caller must accept it once only.
	State sso.LoginState
}

// Complete finishes a login from the callback's query parameters and the
// sealed state Begin returned for the same redirect URI. It checks the
// state, the provider's error and iss parameters, exchanges the code,
// verifies the ID token and userinfo, and returns the identity, the return
// path and the state's id. It does not remember used states: the caller
// consumes Completion.State once (Ping's codes are single-use too). Errors
// are *plugin.LoginError; details go to the logger.
func (rp *RelyingParty) Complete(ctx context.Context, redirectURI, sealedState string, query url.Values) (*Completion, error) {
	id, st, err := rp.complete(ctx, redirectURI, sealedState, query)
	if err != nil {
		le := toLoginError(err)
		rp.log.Warn("ping: login failed", "kind", le.Kind.String(), "message", le.Message, "error", err)
		return nil, le
	}
	return &Completion{Identity: id, ReturnTo: st.ReturnTo, State: sso.LoginState{ID: st.ID, Expires: rp.sealer.expiry(st)}}, nil
}

func (rp *RelyingParty) complete(ctx context.Context, redirectURI, sealedState string, query url.Values) (*sso.Identity, loginState, error) {
	done, st, err := rp.completeDetail(ctx, redirectURI, sealedState, query)
	if err != nil {
		return nil, st, err
	}
	return done.Identity, st, nil
}

// completeDetail is complete that also keeps the claims of each source.
func (rp *RelyingParty) completeDetail(ctx context.Context, redirectURI, sealedState string, query url.Values) (*CheckedLogin, loginState, error) {
	start := time.Now()
	if rp.cfg.Debug {
		rp.log.Info("sso debug", "step", "callback", "query", redactQuery(query))
	}
	st, err := rp.openState(sealedState, redirectURI)
	if err != nil {
		return nil, loginState{}, err
	}
	for _, k := range []string{"state", "code", "iss", "error"} {
		if len(query[k]) > 1 {
			return nil, loginState{}, newError(plugin.KindInvalidInput, "the callback repeats the parameter "+k, errDuplicateParam)
		}
	}
	cbState := query.Get("state")
	if cbState != "" && subtle.ConstantTimeCompare([]byte(cbState), []byte(st.State)) != 1 {
		return nil, loginState{}, newError(plugin.KindInvalidState, "the callback does not belong to this login; start the login again", errStateMismatch)
	}
	// RFC 9207 holds for error responses too (mix-up defence).
	p, err := rp.provider(ctx)
	if err != nil {
		return nil, loginState{}, err
	}
	if err := checkCallbackIssuer(p, query); err != nil {
		return nil, loginState{}, err
	}
	if code := query.Get("error"); code != "" {
		// The description only reaches the log (through the cause).
		pe := &ProviderError{Code: sanitizeErrorCode(code), Description: sanitize(query.Get("error_description"), 200)}
		return nil, loginState{}, newError(plugin.KindProvider, providerErrorMessage(pe.Code), pe)
	}
	if cbState == "" {
		return nil, loginState{}, newError(plugin.KindInvalidState, "the callback has no state; start the login again", errStateMismatch)
	}
	code := query.Get("code")
	if code == "" {
		return nil, loginState{}, newError(plugin.KindInvalidInput, "the callback has no authorization code", errNoCode)
	}
	tok, err := rp.exchange(ctx, p, st, code)
	if err != nil {
		return nil, loginState{}, err
	}
	idt, err := rp.verifyIDToken(ctx, p, st, tok)
	if err != nil {
		return nil, loginState{}, err
	}
	claims := idt.Claims
	var ui map[string]any
	if p.meta.UserinfoURL != "" {
		if ui, err = rp.userinfo(ctx, p, tok.AccessToken, idt.Subject); err != nil {
			return nil, loginState{}, err
		}
		claims = mergeClaims(idt.Claims, ui)
	}
	id, err := ExtractIdentity(rp.cfg, idt.Issuer, idt.Subject, claims)
	if err != nil {
		return &CheckedLogin{IDTokenClaims: idt.Claims, UserinfoClaims: ui}, loginState{}, newError(plugin.KindVerification, "the identity provider's claims cannot be used: "+strings.TrimPrefix(err.Error(), "ping: "), err)
	}
	if rp.cfg.Debug {
		rp.step("complete", start, "issuer", id.Issuer, "subject", id.Subject, "user_id", id.UserID,
			"email", id.Email, "name", id.Name, "groups", id.Groups)
	}
	return &CheckedLogin{Identity: id, IDTokenClaims: idt.Claims, UserinfoClaims: ui}, st, nil
}

// openState opens the sealed state and maps its failures to KindInvalidState.
func (rp *RelyingParty) openState(sealed, redirectURI string) (loginState, error) {
	if sealed == "" {
		return loginState{}, newError(plugin.KindInvalidState, "the login state is missing (cookies blocked?); start the login again", errStateMalformed)
	}
	st, err := rp.sealer.open(sealed, redirectURI)
	switch {
	case err == nil:
		return st, nil
	case errors.Is(err, errStateExpired):
		return st, newError(plugin.KindInvalidState, "the login took too long; start the login again", err)
	case errors.Is(err, errRedirectMismatch):
		return st, newError(plugin.KindInvalidState, "the callback URL differs from the one the login began with", err)
	default:
		return st, newError(plugin.KindInvalidState, "the login state is invalid; start the login again", err)
	}
}

// checkCallbackIssuer applies RFC 9207: iss on the callback must be the
// issuer, and must be present when the provider advertises it.
func checkCallbackIssuer(p *provider, query url.Values) error {
	if !query.Has("iss") {
		if p.meta.IssParameterSupported {
			return newError(plugin.KindVerification, "the callback lacks the issuer (iss) the provider promises", errCallbackNoIssuer)
		}
		return nil
	}
	if iss := query.Get("iss"); iss != p.meta.Issuer {
		return newError(plugin.KindVerification, "the callback comes from another issuer (iss)",
			errors.Join(errCallbackIssuer, errors.New("got "+sanitize(iss, 200)+", want "+p.meta.Issuer)))
	}
	return nil
}

var errorCodeChars = regexp.MustCompile(`[^A-Za-z0-9_.\-]`)

// sanitizeErrorCode keeps an OAuth error code to its usual character set.
func sanitizeErrorCode(s string) string {
	s = errorCodeChars.ReplaceAllString(s, "")
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		return "unknown_error"
	}
	return s
}

// redactQuery copies callback parameters with code and state hidden.
func redactQuery(q url.Values) map[string]string {
	out := make(map[string]string, len(q))
	for k := range q {
		switch k {
		case "code", "state":
			out[k] = "REDACTED"
		default:
			out[k] = sanitize(q.Get(k), 200)
		}
	}
	return out
}
