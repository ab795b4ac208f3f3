package ping

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/time/rate"
)

// keySet holds the provider's signing keys. It caches the JWKS and picks
// the key the way a conformant relying party must (a token without kid is
// accepted only when exactly one usable key exists). HMAC algorithms use the
// client secret and only when secret is set.
//
// One background goroutine does every fetch: the scheduled refresh every
// keysMaxAge (with backoff after failures), the first fetch a login waits
// for, and the rate-limited refetch for an unknown kid. No lock is held
// across network I/O, and a login whose kid is cached never waits for a
// refresh, however late or failing.
type keySet struct {
	url     string
	secret  []byte
	algs    []jose.SignatureAlgorithm // asymmetric, plus HMAC with a secret
	rp      *RelyingParty
	limiter *rate.Limiter
	wake    chan struct{} // a login asks the loop to look again

	mu       sync.Mutex
	keys     []jose.JSONWebKey
	next     time.Time // the scheduled refresh; zero before the first fetch
	failures int       // consecutive failed fetches
	lastTry  time.Time
	lastErr  error
	pending  *fetch // the fetch the loop runs next or is running
	closed   bool
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
	k := &keySet{url: url, secret: secret, algs: algs, rp: rp,
		limiter: rate.NewLimiter(rate.Every(refetchEvery), refetchBurst), wake: make(chan struct{}, 1)}
	if !rp.goBackground(k.loop) {
		k.closed = true
	}
	return k
}

// VerifySignature checks a compact JWS and returns its payload.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	payload, _, err := k.verify(ctx, raw)
	return payload, err
}

// verify checks a compact JWS: one signature, an allowed algorithm, and a
// key of the JWKS (or the client secret for HMAC). It returns the payload
// and the protected header, parsing the token once.
func (k *keySet) verify(ctx context.Context, raw string) ([]byte, tokenHeader, error) {
	jws, err := jose.ParseSignedCompact(raw, k.algs)
	if err != nil {
		if hdrAlg(raw) == "none" {
			return nil, tokenHeader{Alg: "none"}, errAlgNone
		}
		return nil, tokenHeader{Alg: hdrAlg(raw)}, fmt.Errorf("%w: %v", errAlgNotAllowed, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, tokenHeader{}, fmt.Errorf("%w: %d signatures", errSignature, len(jws.Signatures))
	}
	h := jws.Signatures[0].Protected
	hdr := tokenHeader{Alg: h.Algorithm, Kid: h.KeyID}
	hdr.Typ, _ = h.ExtraHeaders[jose.HeaderType].(string)
	if strings.HasPrefix(hdr.Alg, "HS") {
		payload, err := jws.Verify(k.secret)
		if errors.Is(err, jose.ErrInvalidKeySize) {
			return nil, hdr, fmt.Errorf("%w: the client secret is shorter than %s needs (RFC 7518 section 3.2)", errSignature, hdr.Alg)
		}
		if err != nil {
			return nil, hdr, fmt.Errorf("%w: %s with the client secret: %v", errSignature, hdr.Alg, err)
		}
		return payload, hdr, nil
	}
	cands, err := k.candidates(ctx, hdr.Kid, hdr.Alg)
	if err != nil {
		return nil, hdr, err
	}
	for _, key := range cands {
		if payload, err := jws.Verify(key.Key); err == nil {
			return payload, hdr, nil
		}
	}
	return nil, hdr, fmt.Errorf("%w: %s kid %q", errSignature, hdr.Alg, hdr.Kid)
}

// candidates returns the keys a token with this kid and alg may be checked
// against. It waits for the first fetch, and for one rate-limited refetch
// when no cached key fits.
func (k *keySet) candidates(ctx context.Context, kid, alg string) ([]jose.JSONWebKey, error) {
	now := k.rp.now()
	keys, fetched := k.cached(now)
	if !fetched {
		if err := k.await(ctx, k.request(now, "initial")); err != nil {
			return nil, err
		}
		keys, _ = k.cached(now)
	}
	cands := usableKeys(keys, kid, alg)
	if len(cands) == 0 && fetched {
		switch f := k.request(now, "unknown kid"); {
		case f == nil:
			k.rp.log.Warn("ping: JWKS reload rate-limited", "kid", kid, "alg", alg, "url", k.url)
		default:
			if err := k.await(ctx, f); err != nil {
				return nil, err
			}
			keys, _ = k.cached(now)
			cands = usableKeys(keys, kid, alg)
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
