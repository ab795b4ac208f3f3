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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

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

// capturingKeySet remembers what the key set said, because go-oidc flattens
// the error it returns.
type capturingKeySet struct {
	ks      *keySet
	mu      sync.Mutex
	payload []byte
	err     error
}

func (c *capturingKeySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	p, err := c.ks.VerifySignature(ctx, raw)
	c.mu.Lock()
	c.payload, c.err = p, err
	c.mu.Unlock()
	return p, err
}

// verifyIDToken checks the ID token of a token response: signature and
// alg (via the key set), iss and aud (via go-oidc), then exp and iat with
// ClockSkew, nbf, nonce, sub, azp and at_hash (here).
func (rp *RelyingParty) verifyIDToken(ctx context.Context, p *provider, st loginState, tok *oauth2.Token) (*verifiedToken, error) {
	start := time.Now()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, verificationError("the token response has no ID token", errNoIDToken)
	}
	hdr, _ := jwtHeader(raw)
	ctx, cancel := rp.withTimeout(ctx)
	defer cancel()
	ks := &capturingKeySet{ks: p.keys}
	v := oidc.NewVerifier(p.meta.Issuer, ks, &oidc.Config{
		ClientID:             rp.cfg.ClientID,
		SupportedSigningAlgs: p.meta.SigningAlgs,
		SkipExpiryCheck:      true, // checked below with ClockSkew
		Now:                  rp.now,
	})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, rp.idTokenError(p, hdr, ks, err)
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return nil, verificationError("the ID token claims are malformed", err)
	}
	if rp.cfg.Debug {
		rp.log.Info("sso debug", "step", "id_token", "alg", hdr.Alg, "kid", hdr.Kid, "typ", hdr.Typ, "claims", jsonText(claims))
	}
	if err := rp.checkIDToken(idt, claims, st, hdr.Alg, tok.AccessToken); err != nil {
		return nil, err
	}
	rp.step("verify", start, "alg", hdr.Alg, "kid", hdr.Kid, "sub", idt.Subject)
	return &verifiedToken{Issuer: idt.Issuer, Subject: idt.Subject, Claims: claims}, nil
}

// checkIDToken runs the checks go-oidc leaves to the caller.
func (rp *RelyingParty) checkIDToken(idt *oidc.IDToken, claims map[string]any, st loginState, alg, accessToken string) error {
	now := rp.now()
	switch {
	case idt.Expiry.IsZero():
		return verificationError("the ID token has no expiry", errMissingExp)
	case now.After(idt.Expiry.Add(ClockSkew)):
		return verificationError("the ID token has expired; check the server clock or start the login again",
			fmt.Errorf("%w at %s (now %s)", errExpired, idt.Expiry.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	case idt.IssuedAt.IsZero():
		return verificationError("the ID token has no issue time (iat)", errMissingIat)
	case idt.IssuedAt.After(now.Add(ClockSkew)):
		return verificationError("the ID token was issued in the future; check the server clock",
			fmt.Errorf("%w: %s", errIatFuture, idt.IssuedAt.UTC().Format(time.RFC3339)))
	}
	if nbf, ok := claims["nbf"].(float64); ok && time.Unix(int64(nbf), 0).After(now.Add(ClockSkew)) {
		return verificationError("the ID token is not valid yet; check the server clock", errNotYetValid)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return verificationError("the ID token does not belong to this login (nonce mismatch)", errNonce)
	}
	if idt.Subject == "" {
		return verificationError("the ID token has no subject (sub)", errMissingSub)
	}
	azp, _ := claims["azp"].(string)
	if (len(idt.Audience) > 1 || azp != "") && azp != rp.cfg.ClientID {
		return verificationError("the ID token was issued to another party (azp)", fmt.Errorf("%w: azp %q", errAzp, azp))
	}
	if idt.AccessTokenHash != "" && !atHashMatches(idt.AccessTokenHash, alg, accessToken) {
		return verificationError("the ID token does not match the access token (at_hash)", errAtHash)
	}
	return nil
}

// idTokenError classifies a go-oidc failure from what the key set saw.
func (rp *RelyingParty) idTokenError(p *provider, hdr tokenHeader, ks *capturingKeySet, err error) error {
	ks.mu.Lock()
	kerr, payload := ks.err, ks.payload
	ks.mu.Unlock()
	switch {
	case hdr.Alg == "none" || errors.Is(kerr, errAlgNone):
		return verificationError("the ID token is not signed", errAlgNone)
	case errors.Is(kerr, errKeysUnavailable):
		return keysError(kerr)
	case kerr != nil:
		return verificationError("the ID token signature is invalid", kerr)
	case payload == nil:
		return verificationError("the ID token is malformed or uses an algorithm that is not allowed",
			fmt.Errorf("%w: alg %q: %v", errAlgNotAllowed, hdr.Alg, err))
	}
	var c issAud
	_ = json.Unmarshal(payload, &c)
	if c.Iss != p.meta.Issuer {
		return verificationError("the ID token comes from another issuer",
			fmt.Errorf("%w: got %q, want %q", errIssuerMismatch, c.Iss, p.meta.Issuer))
	}
	aud, _ := audiences(c.Aud)
	if !slices.Contains(aud, rp.cfg.ClientID) {
		return verificationError("the ID token was issued for another client (aud)", fmt.Errorf("%w: %q", errAudience, aud))
	}
	return verificationError("the ID token is invalid", err)
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
