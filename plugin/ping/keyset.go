package ping

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/time/rate"

	"github.com/pingauthz/pingauthz/plugin"
)

const (
	// keysMaxAge is how long a fetched JWKS is used before it is reloaded,
	// so unpublished keys stop being trusted.
	keysMaxAge = time.Hour
	// refetchEvery and refetchBurst limit reloads caused by unknown kids.
	refetchEvery = 10 * time.Second
	refetchBurst = 2
)

// errKeysUnavailable wraps a JWKS that could not be fetched; retrying later
// may succeed.
var errKeysUnavailable = errors.New("JWKS cannot be fetched")

// keySet is the oidc.KeySet of the provider: it caches the JWKS, reloads it
// when a token names an unknown kid (rate-limited), and picks the key the
// way a conformant relying party must (a token without kid is accepted only
// when exactly one usable key exists). HMAC algorithms use the client secret
// and only when secret is set.
type keySet struct {
	url     string
	secret  []byte
	algs    []jose.SignatureAlgorithm // asymmetric, plus HMAC with a secret
	rp      *RelyingParty
	limiter *rate.Limiter

	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetched time.Time
}

func newKeySet(url string, secret []byte, rp *RelyingParty) *keySet {
	algs := make([]jose.SignatureAlgorithm, 0, len(asymmetricAlgs)+len(hmacAlgs))
	for _, a := range asymmetricAlgs {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	if secret != nil {
		for _, a := range hmacAlgs {
			algs = append(algs, jose.SignatureAlgorithm(a))
		}
	}
	return &keySet{url: url, secret: secret, algs: algs, rp: rp, limiter: rate.NewLimiter(rate.Every(refetchEvery), refetchBurst)}
}

// VerifySignature implements oidc.KeySet for compact JWS tokens.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, k.algs)
	if err != nil {
		if hdrAlg(raw) == "none" {
			return nil, errAlgNone
		}
		return nil, fmt.Errorf("%w: %v", errAlgNotAllowed, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: %d signatures", errSignature, len(jws.Signatures))
	}
	hdr := jws.Signatures[0].Header
	if strings.HasPrefix(hdr.Algorithm, "HS") {
		payload, err := jws.Verify(k.secret)
		if errors.Is(err, jose.ErrInvalidKeySize) {
			return nil, fmt.Errorf("%w: the client secret is shorter than %s needs (RFC 7518 section 3.2)", errSignature, hdr.Algorithm)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s with the client secret: %v", errSignature, hdr.Algorithm, err)
		}
		return payload, nil
	}
	cands, err := k.candidates(ctx, hdr.KeyID, hdr.Algorithm)
	if err != nil {
		return nil, err
	}
	for _, key := range cands {
		if payload, err := jws.Verify(key.Key); err == nil {
			return payload, nil
		}
	}
	return nil, fmt.Errorf("%w: %s kid %q", errSignature, hdr.Algorithm, hdr.KeyID)
}

// candidates returns the keys a token with this kid and alg may be checked
// against, reloading the JWKS once when none fits.
func (k *keySet) candidates(ctx context.Context, kid, alg string) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.rp.now()
	reloaded := false
	if k.keys == nil || now.Sub(k.fetched) > keysMaxAge || now.Before(k.fetched) {
		if err := k.reload(ctx, "initial or aged"); err != nil && k.keys == nil {
			return nil, err
		}
		reloaded = true
	}
	cands := usableKeys(k.keys, kid, alg)
	if len(cands) == 0 && !reloaded {
		if !k.limiter.AllowN(now, 1) {
			k.rp.log.Warn("ping: JWKS reload rate-limited", "kid", kid, "alg", alg)
		} else if err := k.reload(ctx, "unknown kid"); err != nil {
			return nil, err
		} else {
			cands = usableKeys(k.keys, kid, alg)
		}
	}
	switch {
	case len(cands) == 0 && kid != "":
		return nil, fmt.Errorf("%w: kid %q alg %s", errUnknownKid, kid, alg)
	case len(cands) == 0:
		return nil, fmt.Errorf("%w for alg %s", errNoUsableKey, alg)
	case kid == "" && len(cands) > 1:
		return nil, fmt.Errorf("%w (%d keys for %s)", errKidAbsentMultiple, len(cands), alg)
	}
	return cands, nil
}

// reload fetches the JWKS; on failure the cached keys stay. Callers hold mu.
func (k *keySet) reload(ctx context.Context, why string) error {
	start := time.Now()
	ctx, cancel := k.rp.withTimeout(ctx)
	defer cancel()
	body, status, _, err := k.rp.get(ctx, epJWKS, k.url, "")
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("status %d", status)
	}
	var keys []jose.JSONWebKey
	if err == nil {
		keys, err = parseJWKS(body, k.rp)
	}
	if err != nil {
		k.rp.log.Warn("ping: JWKS fetch failed", "url", k.url, "error", err)
		return fmt.Errorf("%w: %s: %w", errKeysUnavailable, k.url, err)
	}
	k.keys, k.fetched = keys, k.rp.now()
	kids := make([]string, len(keys))
	for i, key := range keys {
		kids[i] = key.KeyID
	}
	k.rp.step("jwks", start, "reason", why, "url", k.url, "kids", kids)
	return nil
}

// keysError is the login error for a JWKS that could not be fetched.
func keysError(err error) *Error {
	if re := redirectError(err); re != nil {
		return re
	}
	return newError(plugin.KindUnavailable, "the identity provider's signing keys (JWKS endpoint) could not be fetched; try again later", err)
}

// parseJWKS reads a JWK Set, skipping keys go-jose cannot read and
// non-public keys, so one odd key does not hide the others.
func parseJWKS(body []byte, rp *RelyingParty) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("malformed JWKS: %v", err)
	}
	keys := make([]jose.JSONWebKey, 0, len(set.Keys))
	for i, raw := range set.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(raw); err != nil {
			rp.log.Debug("ping: JWKS key skipped", "index", i, "error", err)
			continue
		}
		if !key.Valid() || !key.IsPublic() {
			continue
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// usableKeys filters keys by kid (when given), use, alg and key type.
func usableKeys(keys []jose.JSONWebKey, kid, alg string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, key := range keys {
		if kid != "" && key.KeyID != kid {
			continue
		}
		if key.Use != "" && key.Use != "sig" {
			continue
		}
		if key.Algorithm != "" && key.Algorithm != alg {
			continue
		}
		if keyFitsAlg(key.Key, alg) {
			out = append(out, key)
		}
	}
	return out
}

func keyFitsAlg(key any, alg string) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return k.Curve == elliptic.P256()
		case "ES384":
			return k.Curve == elliptic.P384()
		case "ES512":
			return k.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// hdrAlg returns the alg of a compact JWS header without verifying anything.
func hdrAlg(raw string) string {
	h, _ := jwtHeader(raw)
	return h.Alg
}
