package ping

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/pingauthz/pingauthz/sso"
)

// The helpers below serve `pingauthz ping check`, a live test of the
// provider from an operator's terminal. They use the same discovery, keys,
// client authentication and verification as a login, and never return a
// token or the client secret.

// CheckedLogin is a completed login with the verified claims of each
// source apart.
type CheckedLogin struct {
	Identity *sso.Identity
	// IDTokenClaims are the ID token's verified claims.
	IDTokenClaims map[string]any
	// UserinfoClaims are the userinfo endpoint's claims; nil when the
	// provider has no userinfo endpoint.
	UserinfoClaims map[string]any
}

// CompleteForCheck finishes a login as Complete does and also returns the
// claims of each source. A failure is an *Error whose cause says in detail
// what did not verify, for the operator's eyes; when only the identity
// could not be extracted, the verified claims come with it (Identity nil).
// It does not return the login state: the caller must not use the login
// for a session.
func (rp *RelyingParty) CompleteForCheck(ctx context.Context, redirectURI, sealedState string, query url.Values) (*CheckedLogin, error) {
	done, _, err := rp.completeDetail(ctx, redirectURI, sealedState, query)
	return done, err
}

// KeyInfo describes one key of the provider's JWKS.
type KeyInfo struct {
	ID        string `json:"kid"`
	Type      string `json:"kty"`
	Algorithm string `json:"alg,omitempty"`
	Use       string `json:"use,omitempty"`
	// Verifies lists the ID token algorithms the relying party accepts
	// that the key can verify; empty means the key is of no use for them.
	Verifies []string `json:"verifies"`
}

// ProviderKeys fetches the JWKS the relying party uses and describes its
// public keys. skipped counts the entries that cannot be read or are not
// public keys.
func (rp *RelyingParty) ProviderKeys(ctx context.Context) (jwksURL string, keys []KeyInfo, skipped int, err error) {
	p, err := rp.disc.get(ctx)
	if err != nil {
		return "", nil, 0, err
	}
	jwksURL = p.meta.JWKSURL
	ctx, cancel := rp.withTimeout(ctx)
	defer cancel()
	body, status, _, err := rp.get(ctx, epJWKS, jwksURL, "")
	if err != nil {
		return jwksURL, nil, 0, fmt.Errorf("ping: JWKS %s cannot be fetched: %w", jwksURL, err)
	}
	if status != http.StatusOK {
		return jwksURL, nil, 0, fmt.Errorf("ping: JWKS %s: the provider answered %d", jwksURL, status)
	}
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return jwksURL, nil, 0, fmt.Errorf("ping: JWKS %s is malformed: %w", jwksURL, err)
	}
	parsed, err := parseJWKS(body, rp)
	if err != nil {
		return jwksURL, nil, 0, fmt.Errorf("ping: JWKS %s: %w", jwksURL, err)
	}
	for _, k := range parsed {
		info := KeyInfo{ID: k.KeyID, Type: keyType(k.Key), Algorithm: k.Algorithm, Use: k.Use, Verifies: []string{}}
		for _, alg := range p.meta.SigningAlgs {
			if len(usableKeys([]jose.JSONWebKey{k}, "", alg)) > 0 {
				info.Verifies = append(info.Verifies, alg)
			}
		}
		keys = append(keys, info)
	}
	return jwksURL, keys, len(raw.Keys) - len(parsed), nil
}

func keyType(key any) string {
	switch key.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "EC"
	case ed25519.PublicKey:
		return "OKP"
	}
	return fmt.Sprintf("%T", key)
}

// ClientProbe is the token endpoint's answer to a made-up code.
type ClientProbe struct {
	// Method is the client authentication the relying party used.
	Method string
	// Status, ErrorCode and Description are the answer's (sanitized).
	Status      int
	ErrorCode   string
	Description string
	// Authenticated says the provider accepted the client and refused
	// only the code (invalid_grant), as a conformant provider does.
	Authenticated bool
}

// ProbeClient sends one token request with a made-up code, the client id
// and secret and the configured (or discovered) client authentication, so
// that a wrong secret or method shows without a browser. redirectURI is
// sent as a login would. An error means no answer came.
func (rp *RelyingParty) ProbeClient(ctx context.Context, redirectURI string) (*ClientProbe, error) {
	p, err := rp.disc.get(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := rp.withTimeout(ctx)
	defer cancel()
	probe := &ClientProbe{Method: p.meta.TokenAuthMethod}
	_, err = rp.tokenRequest(ctx, p, redirectURI, "pingauthz-check-"+rand.Text(), "")
	var te *tokenError
	switch {
	case err == nil:
		probe.Status = http.StatusOK
		probe.Description = "the token endpoint issued tokens for a made-up code"
	case errors.As(err, &te):
		probe.Status = te.Status
		probe.ErrorCode = sanitize(te.Code, 64)
		probe.Description = sanitize(te.Description, 200)
		probe.Authenticated = probe.ErrorCode == "invalid_grant"
	default:
		return nil, fmt.Errorf("ping: token endpoint %s: %w", p.meta.TokenURL, err)
	}
	return probe, nil
}

// ClaimValue looks a claim up as ExtractIdentity does: by literal name,
// then, for a name starting with "/", as a JSON pointer.
func ClaimValue(claims map[string]any, name string) (any, bool) { return lookupClaim(claims, name) }
