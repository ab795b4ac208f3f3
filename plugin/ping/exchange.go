package ping

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pingauthz/pingauthz/plugin"
)

// tokenResponse is the token endpoint's answer (RFC 6749 section 5.1), read
// once: the fields used here and nothing else.
type tokenResponse struct {
	AccessToken  string      `json:"access_token"`
	TokenType    string      `json:"token_type"`
	ExpiresIn    json.Number `json:"expires_in"`
	RefreshToken string      `json:"refresh_token"`
	Scope        string      `json:"scope"`
	IDToken      string      `json:"id_token"`
}

// tokenError is a token endpoint's refusal (RFC 6749 section 5.2). Code and
// Description are as sent; sanitize them before showing or logging.
type tokenError struct {
	Status      int
	Code        string
	Description string
}

func (e *tokenError) Error() string {
	return fmt.Sprintf("ping: the token endpoint answered %d %q", e.Status, sanitize(e.Code, 64))
}

// tokenRequest sends one authorization_code grant with the resolved client
// authentication and reads the answer. A refusal is a *tokenError. It never
// retries: a code is single-use.
func (rp *RelyingParty) tokenRequest(ctx context.Context, p *provider, redirectURI, code, verifier string) (*tokenResponse, error) {
	var form formEncoder
	form.Grow(256)
	form.add("grant_type", "authorization_code")
	form.add("code", code)
	form.add("redirect_uri", redirectURI)
	if verifier != "" {
		form.add("code_verifier", verifier)
	}
	post := p.meta.TokenAuthMethod == AuthClientSecretPost
	if post {
		form.add("client_id", rp.cfg.ClientID)
		form.add("client_secret", rp.cfg.ClientSecret)
	}
	req, err := http.NewRequestWithContext(toEndpoint(ctx, epToken), http.MethodPost, p.meta.TokenURL, strings.NewReader(form.String()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if !post {
		req.Header.Set("Authorization", rp.basicAuth)
	}
	resp, err := rp.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := readBody(resp)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		te := &tokenError{Status: resp.StatusCode}
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &e) == nil {
			te.Code, te.Description = e.Error, e.Description
		}
		return nil, te
	}
	tok := &tokenResponse{}
	if err := json.Unmarshal(body, tok); err != nil {
		return nil, fmt.Errorf("ping: the token response is malformed: %w", err)
	}
	if tok.AccessToken == "" {
		return nil, errors.New("ping: the token response has no access_token")
	}
	return tok, nil
}

// exchange trades the code for tokens at the token endpoint within
// ExchangeTimeout.
func (rp *RelyingParty) exchange(ctx context.Context, p *provider, st loginState, code string) (*tokenResponse, error) {
	start := time.Now()
	ctx, cancel := rp.withTimeout(ctx)
	defer cancel()
	tok, err := rp.tokenRequest(ctx, p, st.RedirectURI, code, st.Verifier)
	if err != nil {
		return nil, rp.exchangeError(ctx, p, err)
	}
	if !strings.EqualFold(tok.TokenType, "Bearer") {
		return nil, newError(plugin.KindVerification, "the identity provider issued an unexpected token type",
			fmt.Errorf("%w: %q", errTokenType, tok.TokenType))
	}
	if rp.cfg.Debug {
		rp.step("exchange", start, "token_url", p.meta.TokenURL, "auth_method", p.meta.TokenAuthMethod,
			"pkce", st.Verifier != "", "token_type", tok.TokenType, "expires_in", tok.ExpiresIn.String(),
			"scope", tok.Scope, "id_token", tok.IDToken != "", "refresh_token", tok.RefreshToken != "")
	}
	return tok, nil
}

// exchangeError classifies a failed exchange: timeouts, network failures
// and 5xx are KindUnavailable; a refusal is KindVerification.
func (rp *RelyingParty) exchangeError(ctx context.Context, p *provider, err error) error {
	if re := redirectError(err); re != nil {
		return re
	}
	var te *tokenError
	if errors.As(err, &te) {
		code := sanitize(te.Code, 64)
		rp.log.Warn("ping: token endpoint refused the code", "status", te.Status,
			"error", code, "error_description", sanitize(te.Description, 200),
			"auth_method", p.meta.TokenAuthMethod)
		if te.Status >= 500 || te.Status == http.StatusTooManyRequests {
			return newError(plugin.KindUnavailable, "the identity provider failed to issue tokens; try again later",
				fmt.Errorf("token endpoint status %d", te.Status))
		}
		cause := fmt.Errorf("token endpoint status %d, error %q", te.Status, code)
		switch code {
		case "invalid_client":
			return newError(plugin.KindVerification, fmt.Sprintf(
				"the identity provider rejected the client credentials (invalid_client); check %s, %s and %s",
				SecureEnvName("client_id"), SecureEnvName("client_secret"), EnvName("token_endpoint_auth_method")), cause)
		case "invalid_grant":
			// A code used before (a replayed callback) or expired: the
			// callback is stale, not the provider at fault.
			return newError(plugin.KindInvalidState, "the identity provider did not accept this sign-in's code (invalid_grant): it was used before, expired or belongs to another login; start the login again", cause)
		case "":
			code = fmt.Sprintf("HTTP %d", te.Status)
		}
		return newError(plugin.KindVerification, "the identity provider rejected the authorization code ("+code+"); start the login again", cause)
	}
	var ne net.Error
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return newError(plugin.KindUnavailable, "the identity provider did not answer in time; try again later", err)
	}
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return newError(plugin.KindUnavailable, "the identity provider could not be reached; try again later", err)
	}
	return newError(plugin.KindVerification, "the identity provider's token response is invalid", err)
}
