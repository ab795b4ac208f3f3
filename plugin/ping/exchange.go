package ping

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/pingauthz/pingauthz/plugin"
)

// exchange trades the code for tokens at the token endpoint with the
// resolved client authentication method, within ExchangeTimeout. It never
// retries: a code is single-use.
func (rp *RelyingParty) exchange(ctx context.Context, p *provider, st loginState, code string) (*oauth2.Token, error) {
	start := time.Now()
	ctx, cancel := rp.withTimeout(ctx)
	defer cancel()
	ctx = context.WithValue(toEndpoint(ctx, epToken), oauth2.HTTPClient, rp.hc)
	var opts []oauth2.AuthCodeOption
	if st.Verifier != "" {
		opts = append(opts, oauth2.VerifierOption(st.Verifier))
	}
	tok, err := rp.oauth2Config(p, st.RedirectURI).Exchange(ctx, code, opts...)
	if err != nil {
		return nil, rp.exchangeError(ctx, p, err)
	}
	if !strings.EqualFold(tok.Type(), "Bearer") {
		return nil, newError(plugin.KindVerification, "the identity provider issued an unexpected token type",
			fmt.Errorf("%w: %q", errTokenType, tok.TokenType))
	}
	scope, _ := tok.Extra("scope").(string)
	_, hasID := tok.Extra("id_token").(string)
	rp.step("exchange", start, "token_url", p.meta.TokenURL, "auth_method", p.meta.TokenAuthMethod,
		"pkce", st.Verifier != "", "token_type", tok.TokenType, "expires_in", tok.ExpiresIn,
		"scope", scope, "id_token", hasID, "refresh_token", tok.RefreshToken != "")
	return tok, nil
}

// exchangeError classifies a failed exchange: timeouts, network failures
// and 5xx are KindUnavailable; a refusal is KindVerification.
func (rp *RelyingParty) exchangeError(ctx context.Context, p *provider, err error) error {
	if re := redirectError(err); re != nil {
		return re
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		rp.log.Warn("ping: token endpoint refused the code", "status", status,
			"error", sanitize(re.ErrorCode, 64), "error_description", sanitize(re.ErrorDescription, 200),
			"auth_method", p.meta.TokenAuthMethod)
		if status >= 500 || status == http.StatusTooManyRequests {
			return newError(plugin.KindUnavailable, "the identity provider failed to issue tokens; try again later",
				fmt.Errorf("token endpoint status %d", status))
		}
		code := sanitize(re.ErrorCode, 64)
		cause := fmt.Errorf("token endpoint status %d, error %q", status, code)
		if code == "invalid_client" {
			return newError(plugin.KindVerification, fmt.Sprintf(
				"the identity provider rejected the client credentials (invalid_client); check %s, %s and %s",
				SecureEnvName("client_id"), SecureEnvName("client_secret"), EnvName("token_endpoint_auth_method")), cause)
		}
		if code == "invalid_grant" {
			// A code used before (a replayed callback) or expired: the
			// callback is stale, not the provider at fault.
			return newError(plugin.KindInvalidState, "the identity provider did not accept this sign-in's code (invalid_grant): it was used before, expired or belongs to another login; start the login again", cause)
		}
		if code == "" {
			code = fmt.Sprintf("HTTP %d", status)
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
