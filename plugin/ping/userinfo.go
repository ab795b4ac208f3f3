package ping

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pingauthz/pingauthz/plugin"
)

// idTokenOnlyClaims keep their ID token values when userinfo is merged:
// they describe the ID token (or a signed userinfo JWT), not the user.
var idTokenOnlyClaims = []string{"iss", "sub", "aud", "exp", "iat", "nbf", "nonce", "azp", "at_hash", "c_hash", "jti", "auth_time"}

// userinfo fetches the userinfo claims with the access token in a Bearer
// header. A signed (application/jwt) answer is verified with the provider's
// keys and must name the issuer and client when it carries iss and aud.
// Its sub must equal the ID token's sub.
func (rp *RelyingParty) userinfo(ctx context.Context, p *provider, accessToken, sub string) (map[string]any, error) {
	start := time.Now()
	ctx, cancel := rp.withTimeout(ctx)
	defer cancel()
	body, status, ctype, err := rp.get(ctx, epUserinfo, p.meta.UserinfoURL, accessToken)
	if re := redirectError(err); re != nil {
		return nil, re
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, newError(plugin.KindUnavailable, "the identity provider's userinfo endpoint did not answer in time; try again later", err)
		}
		return nil, newError(plugin.KindUnavailable, "the identity provider's userinfo endpoint could not be reached; try again later", err)
	}
	switch {
	case status >= 500 || status == http.StatusTooManyRequests:
		return nil, newError(plugin.KindUnavailable, "the identity provider's userinfo endpoint failed; try again later",
			fmt.Errorf("%w: status %d", errUserinfoStatus, status))
	case status != http.StatusOK:
		return nil, verificationError("the identity provider's userinfo endpoint refused the access token",
			fmt.Errorf("%w: status %d", errUserinfoStatus, status))
	}
	mt, _, _ := mime.ParseMediaType(ctype)
	signed := mt == "application/jwt"
	if signed {
		body, err = rp.verifySignedUserinfo(ctx, p, strings.TrimSpace(string(body)))
		if err != nil {
			return nil, err
		}
	}
	claims := map[string]any{}
	if err := json.Unmarshal(body, &claims); err != nil {
		return nil, verificationError("the userinfo response is malformed", fmt.Errorf("%w: %v", errUserinfoBody, err))
	}
	if got, _ := claims["sub"].(string); got != sub {
		return nil, verificationError("the userinfo response is about another user (sub)",
			fmt.Errorf("%w: got %q, want %q", errUserinfoSub, got, sub))
	}
	if rp.cfg.Debug {
		rp.log.Info("sso debug", "step", "userinfo_claims", "signed", signed, "claims", jsonText(claims))
	}
	if rp.cfg.Debug {
		rp.step("userinfo", start, "url", p.meta.UserinfoURL, "signed", signed, "claims", len(claims))
	}
	return claims, nil
}

func (rp *RelyingParty) verifySignedUserinfo(ctx context.Context, p *provider, raw string) ([]byte, error) {
	payload, err := p.keys.VerifySignature(ctx, raw)
	if err != nil {
		if errors.Is(err, errKeysUnavailable) {
			return nil, keysError(err)
		}
		return nil, verificationError("the signed userinfo response is invalid", err)
	}
	var c issAud
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, verificationError("the userinfo response is malformed", fmt.Errorf("%w: %v", errUserinfoBody, err))
	}
	if c.Iss != "" && c.Iss != p.meta.Issuer {
		return nil, verificationError("the signed userinfo response comes from another issuer",
			fmt.Errorf("%w: userinfo iss %q", errIssuerMismatch, c.Iss))
	}
	if len(c.Aud) > 0 {
		many, err := audiences(c.Aud)
		if err != nil {
			return nil, verificationError("the userinfo response is malformed", fmt.Errorf("%w: aud", errUserinfoBody))
		}
		if !slices.Contains(many, rp.cfg.ClientID) {
			return nil, verificationError("the signed userinfo response is for another client (aud)",
				fmt.Errorf("%w: userinfo aud %q", errAudience, many))
		}
	}
	return payload, nil
}

// mergeClaims returns the ID token claims overlaid with userinfo, except
// idTokenOnlyClaims.
func mergeClaims(idClaims, userinfo map[string]any) map[string]any {
	out := maps.Clone(idClaims)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range userinfo {
		if slices.Contains(idTokenOnlyClaims, k) {
			continue
		}
		out[k] = v
	}
	return out
}
