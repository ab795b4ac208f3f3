package pingemu

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// rsaKeyBits is the size of generated signing keys.
const rsaKeyBits = 2048

// keyring holds the published RSA keys; current signs.
type keyring struct {
	keys    []jose.JSONWebKey // private keys, in publication order
	current string            // kid of the signing key
}

func (k *keyring) signingKey() (jose.JSONWebKey, bool) {
	for _, key := range k.keys {
		if key.KeyID == k.current {
			return key, true
		}
	}
	return jose.JSONWebKey{}, false
}

// newRSAKey generates a key whose kid is its RFC 7638 thumbprint.
func newRSAKey() (jose.JSONWebKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("pingemu: generate RSA key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: string(jose.RS256), Use: "sig"}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("pingemu: key thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return jwk, nil
}

// RotateKey generates a new RSA key, publishes it and signs with it from now
// on. Old keys stay published until RetireOldKeys.
func (s *Server) RotateKey() (kid string, err error) {
	key, err := newRSAKey()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys.keys = append(s.keys.keys, key)
	s.keys.current = key.KeyID
	return key.KeyID, nil
}

// AddKey publishes another RSA key without signing with it.
func (s *Server) AddKey() (kid string, err error) {
	key, err := newRSAKey()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys.keys = append(s.keys.keys, key)
	return key.KeyID, nil
}

// RetireOldKeys unpublishes every key but the current signing key.
func (s *Server) RetireOldKeys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key, ok := s.keys.signingKey(); ok {
		s.keys.keys = []jose.JSONWebKey{key}
	}
}

// KeyIDs returns the published kids, the signing one first.
func (s *Server) KeyIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []string{s.keys.current}
	for _, k := range s.keys.keys {
		if k.KeyID != s.keys.current {
			out = append(out, k.KeyID)
		}
	}
	return out
}

func (s *Server) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(s.keys.keys))}
	for _, k := range s.keys.keys {
		set.Keys = append(set.Keys, k.Public())
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, set)
}

// signRS256 signs claims with key, with or without a kid header.
func signRS256(key jose.JSONWebKey, claims map[string]any, withKid bool) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("pingemu: encode claims: %w", err)
	}
	var sk any = key // a JSONWebKey puts its kid in the header
	if !withKid {
		sk = key.Key
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: sk}, nil)
	if err != nil {
		return "", fmt.Errorf("pingemu: signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("pingemu: sign: %w", err)
	}
	return jws.CompactSerialize()
}

// signHS256 signs with the client secret as Ping does, whatever its length
// (go-jose refuses HMAC keys shorter than 256 bits, so this is done by hand).
func signHS256(secret string, claims map[string]any) (string, error) {
	input, err := signingInput(map[string]any{"alg": "HS256", "typ": "JWT"}, claims)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

// unsignedJWT returns an alg "none" JWT (empty signature).
func unsignedJWT(claims map[string]any) (string, error) {
	input, err := signingInput(map[string]any{"alg": "none", "typ": "JWT"}, claims)
	if err != nil {
		return "", err
	}
	return input + ".", nil
}

func signingInput(header, claims map[string]any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("pingemu: encode header: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("pingemu: encode claims: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c), nil
}

// corruptSignature flips bits in a compact JWS's signature, keeping it well formed.
func corruptSignature(token string) (string, error) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return "", errors.New("pingemu: not a compact JWS")
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil || len(sig) == 0 {
		return token, nil // nothing to corrupt (alg none)
	}
	for j := range sig {
		if j%7 == 0 {
			sig[j] ^= 0x5a
		}
	}
	return token[:i+1] + base64.RawURLEncoding.EncodeToString(sig), nil
}
