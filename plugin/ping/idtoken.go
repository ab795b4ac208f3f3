package ping

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pingauthz/pingauthz/plugin"
)

// tokenHeader is the unverified JOSE header of a compact JWT.
type tokenHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
}

// jwtHeader decodes the header of a compact JWT without verifying it.
func jwtHeader(raw string) (tokenHeader, error) {
	var h tokenHeader
	first, _, ok := strings.Cut(raw, ".")
	if !ok {
		return h, errors.New("not a compact JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(first)
	if err != nil {
		return h, err
	}
	err = json.Unmarshal(b, &h)
	return h, err
}

// verifiedToken is an ID token that passed every check.
type verifiedToken struct {
	Issuer  string
	Subject string
	Claims  map[string]any
}

// idClaims are the registered claims of an ID token that the checks read;
// a time is zero when its claim is absent.
type idClaims struct {
	Issuer, Subject, Nonce, AuthorizedParty, AccessTokenHash string
	Audience                                                 []string
	Expiry, IssuedAt, NotBefore                              time.Time
}

// readIDClaims takes the registered claims from decoded claims; a claim of
// the wrong JSON type is an error.
func readIDClaims(c map[string]any) (idClaims, error) {
	var ic idClaims
	for _, s := range []struct {
		name string
		dst  *string
	}{{"iss", &ic.Issuer}, {"sub", &ic.Subject}, {"nonce", &ic.Nonce}, {"azp", &ic.AuthorizedParty}, {"at_hash", &ic.AccessTokenHash}} {
		switch v := c[s.name].(type) {
		case nil:
		case string:
			*s.dst = v
		default:
			return ic, fmt.Errorf("claim %s is %s, not a string", s.name, jsonType(v))
		}
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"exp", &ic.Expiry}, {"iat", &ic.IssuedAt}, {"nbf", &ic.NotBefore}} {
		switch v := c[t.name].(type) {
		case nil:
		case float64:
			sec, frac := math.Modf(v)
			*t.dst = time.Unix(int64(sec), int64(frac*1e9))
		default:
			return ic, fmt.Errorf("claim %s is %s, not a number", t.name, jsonType(v))
		}
	}
	switch v := c["aud"].(type) {
	case nil:
	case string:
		ic.Audience = []string{v}
	case []any:
		ic.Audience = make([]string, len(v))
		for i, a := range v {
			s, ok := a.(string)
			if !ok {
				return ic, fmt.Errorf("claim aud member %d is %s, not a string", i, jsonType(a))
			}
			ic.Audience[i] = s
		}
	default:
		return ic, fmt.Errorf("claim aud is %s, not a string or a list", jsonType(v))
	}
	return ic, nil
}

// verifyIDToken checks the ID token of a token response: signature and alg
// (via the key set), then iss, aud, exp and iat with ClockSkew, nbf, nonce,
// sub, azp and at_hash. The token is parsed and its claims decoded once.
func (rp *RelyingParty) verifyIDToken(ctx context.Context, p *provider, st loginState, tok *tokenResponse) (*verifiedToken, error) {
	start := time.Now()
	if tok.IDToken == "" {
		return nil, verificationError("the token response has no ID token", errNoIDToken)
	}
	payload, hdr, err := p.keys.verify(ctx, tok.IDToken)
	if err != nil {
		return nil, idTokenError(err)
	}
	claims := map[string]any{}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, verificationError("the ID token claims are malformed", err)
	}
	ic, err := readIDClaims(claims)
	if err != nil {
		return nil, verificationError("the ID token claims are malformed", err)
	}
	if rp.cfg.Debug {
		rp.log.Info("sso debug", "step", "id_token", "alg", hdr.Alg, "kid", hdr.Kid, "typ", hdr.Typ, "claims", jsonText(claims))
	}
	if err := rp.checkIDToken(p.meta.Issuer, ic, st, hdr.Alg, tok.AccessToken); err != nil {
		return nil, err
	}
	if rp.cfg.Debug {
		rp.step("verify", start, "alg", hdr.Alg, "kid", hdr.Kid, "sub", ic.Subject)
	}
	return &verifiedToken{Issuer: ic.Issuer, Subject: ic.Subject, Claims: claims}, nil
}

// checkIDToken runs the checks on a token whose signature verified.
func (rp *RelyingParty) checkIDToken(issuer string, c idClaims, st loginState, alg, accessToken string) error {
	now := rp.now()
	switch {
	case c.Issuer != issuer:
		return verificationError("the ID token comes from another issuer",
			fmt.Errorf("%w: got %q, want %q", errIssuerMismatch, c.Issuer, issuer))
	case !slices.Contains(c.Audience, rp.cfg.ClientID):
		return verificationError("the ID token was issued for another client (aud)", fmt.Errorf("%w: %q", errAudience, c.Audience))
	case c.Expiry.IsZero():
		return verificationError("the ID token has no expiry", errMissingExp)
	case now.After(c.Expiry.Add(ClockSkew)):
		return verificationError("the ID token has expired; check the server clock or start the login again",
			fmt.Errorf("%w at %s (now %s)", errExpired, c.Expiry.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	case c.IssuedAt.IsZero():
		return verificationError("the ID token has no issue time (iat)", errMissingIat)
	case c.IssuedAt.After(now.Add(ClockSkew)):
		return verificationError("the ID token was issued in the future; check the server clock",
			fmt.Errorf("%w: %s", errIatFuture, c.IssuedAt.UTC().Format(time.RFC3339)))
	case c.NotBefore.After(now.Add(ClockSkew)):
		return verificationError("the ID token is not valid yet; check the server clock", errNotYetValid)
	case subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(st.Nonce)) != 1:
		return verificationError("the ID token does not belong to this login (nonce mismatch)", errNonce)
	case c.Subject == "":
		return verificationError("the ID token has no subject (sub)", errMissingSub)
	case (len(c.Audience) > 1 || c.AuthorizedParty != "") && c.AuthorizedParty != rp.cfg.ClientID:
		return verificationError("the ID token was issued to another party (azp)", fmt.Errorf("%w: azp %q", errAzp, c.AuthorizedParty))
	case c.AccessTokenHash != "" && !atHashMatches(c.AccessTokenHash, alg, accessToken):
		return verificationError("the ID token does not match the access token (at_hash)", errAtHash)
	}
	return nil
}

// idTokenError classifies what the key set said about an ID token.
func idTokenError(err error) error {
	switch {
	case errors.Is(err, errAlgNone):
		return verificationError("the ID token is not signed", err)
	case errors.Is(err, errKeysUnavailable):
		return keysError(err)
	case errors.Is(err, errAlgNotAllowed):
		return verificationError("the ID token is malformed or uses an algorithm that is not allowed", err)
	}
	return verificationError("the ID token signature is invalid", err)
}

// issAud holds the claims a signed response is checked by.
type issAud struct {
	Iss string          `json:"iss"`
	Aud json.RawMessage `json:"aud"`
}

// audiences decodes aud, a string or a list of strings.
func audiences(raw json.RawMessage) ([]string, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	err := json.Unmarshal(raw, &many)
	return many, err
}

func verificationError(msg string, cause error) *Error {
	return newError(plugin.KindVerification, msg, cause)
}

// atHashMatches checks at_hash: the left half of the access token's hash
// with the ID token's algorithm, base64url-encoded.
func atHashMatches(atHash, alg, accessToken string) bool {
	var h hash.Hash
	switch {
	case strings.HasSuffix(alg, "256"):
		h = sha256.New()
	case strings.HasSuffix(alg, "384"):
		h = sha512.New384()
	case strings.HasSuffix(alg, "512"), alg == "EdDSA":
		h = sha512.New()
	default:
		return false
	}
	h.Write([]byte(accessToken))
	sum := h.Sum(nil)
	want := base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	return subtle.ConstantTimeCompare([]byte(want), []byte(atHash)) == 1
}
