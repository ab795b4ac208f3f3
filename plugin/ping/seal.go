package ping

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// sealVersion prefixes every sealed state; a new format gets a new prefix.
const sealVersion = "v1."

// sealInfo is the HKDF info: it separates this key from any other use of the
// client secret.
const sealInfo = "pingauthz ping login-state v1"

// loginState is what Begin seals and Complete opens.
type loginState struct {
	ID          string `json:"id"`
	State       string `json:"st"`
	Nonce       string `json:"n"`
	Verifier    string `json:"v,omitempty"`
	ReturnTo    string `json:"rt"`
	RedirectURI string `json:"ru"`
	IssuedAt    int64  `json:"iat"`
}

// sealer encrypts login states with XChaCha20-Poly1305 under a key derived
// by HKDF-SHA256 from the client secret (salted with the client id), so any
// replica with the same secret can open them. It does not prevent replay;
// the caller of Complete consumes each state once.
type sealer struct {
	aead cipher.AEAD
	ttl  time.Duration
	now  func() time.Time
}

func newSealer(secret, clientID string, ttl time.Duration, now func() time.Time) (*sealer, error) {
	key, err := hkdf.Key(sha256.New, []byte(secret), []byte(clientID), sealInfo, chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("ping: deriving the state key: %v", err)
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("ping: state cipher: %v", err)
	}
	return &sealer{aead: aead, ttl: ttl, now: now}, nil
}

// seal encrypts st; the version prefix is authenticated as associated data.
func (s *sealer) seal(st loginState) (string, error) {
	plain, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := s.aead.Seal(nonce, nonce, plain, []byte(sealVersion))
	return sealVersion + base64.RawURLEncoding.EncodeToString(out), nil
}

// open decrypts a sealed state and checks its age and redirect URI. Every
// failure wraps errStateMalformed, errStateExpired or errRedirectMismatch.
func (s *sealer) open(sealed, redirectURI string) (loginState, error) {
	var st loginState
	rest, ok := strings.CutPrefix(sealed, sealVersion)
	if !ok {
		return st, fmt.Errorf("%w: unknown format", errStateMalformed)
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return st, fmt.Errorf("%w: bad encoding", errStateMalformed)
	}
	ns := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:ns], raw[ns:], []byte(sealVersion))
	if err != nil {
		return st, fmt.Errorf("%w: authentication failed (tampered, or sealed with another secret)", errStateMalformed)
	}
	if err := json.Unmarshal(plain, &st); err != nil || st.ID == "" || st.State == "" || st.Nonce == "" {
		return loginState{}, fmt.Errorf("%w: incomplete content", errStateMalformed)
	}
	now := s.now()
	issued := time.Unix(st.IssuedAt, 0)
	if issued.After(now.Add(ClockSkew)) {
		return loginState{}, fmt.Errorf("%w: issued in the future", errStateMalformed)
	}
	if now.After(issued.Add(s.ttl)) {
		return loginState{}, fmt.Errorf("%w: issued %s ago", errStateExpired, now.Sub(issued).Round(time.Second))
	}
	if st.RedirectURI != redirectURI {
		return loginState{}, errRedirectMismatch
	}
	return st, nil
}

// expiry is when a state stops opening.
func (s *sealer) expiry(st loginState) time.Time {
	return time.Unix(st.IssuedAt, 0).Add(s.ttl)
}
