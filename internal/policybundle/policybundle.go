// Package policybundle reads the policy bundle of policy__bundle, an OPA
// bundle as `opa build` writes it, with OPA's packages: a local file or
// directory through the loader, a remote one through OPA's downloader, which
// polls it with ETag and backoff. When a public key is configured, a bundle
// must carry a valid signature over every file: unsigned and tampered
// bundles are refused. The last good remote bundle is kept in a cache
// directory so that a restart works while the bundle server is down.
//
// A bundle carries policies only: data files and Wasm modules are refused,
// since the directory data comes from the server. The package does not
// compile or activate a bundle; the caller composes its modules with the
// defaults (rego.EffectiveModulesWith) and calls Persist once it is active.
package policybundle

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/keys"
	"github.com/open-policy-agent/opa/v1/loader"

	"github.com/pingauthz/pingauthz/rego"
)

// keyID names the configured key in OPA's verification config. Setting it
// makes OPA verify with that key whatever key id the signature names, and
// a configured key makes a signature required.
const keyID = "policy__bundle_public_key"

// DefaultSizeLimitBytes bounds each file of a remote bundle.
const DefaultSizeLimitBytes = 8 << 20

// Bundle is a verified bundle's policies.
type Bundle struct {
	// Revision is the manifest's revision ("" when it has none).
	Revision string
	// Modules are the bundle's .rego files: Path is the file's path in the
	// bundle, File names the bundle and the path for errors.
	Modules []rego.Module
	// Signed reports whether a signature was verified.
	Signed bool
}

// Verification returns OPA's verification config for a PEM public key, or
// the path of one, with the algorithm its type implies: RS256 for RSA (the
// default of opa build), ES256, ES384 or ES512 for ECDSA by curve, EdDSA for
// Ed25519. An empty key means no verification: nil.
func Verification(key string) (*bundle.VerificationConfig, error) {
	if key == "" {
		return nil, nil
	}
	data := key
	if !strings.HasPrefix(strings.TrimSpace(key), "-----BEGIN") {
		b, err := os.ReadFile(key)
		if err != nil {
			return nil, fmt.Errorf("policybundle: public key: %w", err)
		}
		data = string(b)
	}
	block, _ := pem.Decode([]byte(strings.TrimSpace(data)))
	if block == nil {
		return nil, errors.New("policybundle: public key: no PEM block")
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("policybundle: public key: a %q PEM block is not a public key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("policybundle: public key: %w", err)
	}
	alg, err := Algorithm(pub)
	if err != nil {
		return nil, err
	}
	kc := map[string]*keys.Config{keyID: {Key: data, Algorithm: alg}}
	return bundle.NewVerificationConfig(kc, keyID, "", nil), nil
}

// Algorithm is the JWS algorithm a public key's type implies (see
// Verification).
func Algorithm(pub any) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "RS256", nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "ES256", nil
		case elliptic.P384():
			return "ES384", nil
		case elliptic.P521():
			return "ES512", nil
		}
	case ed25519.PublicKey:
		return "EdDSA", nil
	}
	return "", fmt.Errorf("policybundle: public key: unsupported key type %T", pub)
}

// LoadFile reads and verifies a bundle file (a tarball) or directory.
func LoadFile(p string, vc *bundle.VerificationConfig) (*Bundle, error) {
	b, err := loader.NewFileLoader().
		WithRegoVersion(ast.RegoV1).
		WithProcessAnnotation(true).
		WithBundleVerificationConfig(vc).
		AsBundle(p)
	if err != nil {
		return nil, fmt.Errorf("policybundle: %s: %w", p, err)
	}
	return fromOPA(p, b, vc != nil)
}

// fromOPA checks an OPA bundle and takes its policies.
func fromOPA(source string, b *bundle.Bundle, verified bool) (*Bundle, error) {
	if b.Type() != bundle.SnapshotBundleType {
		return nil, fmt.Errorf("policybundle: %s: a delta bundle; serve a snapshot bundle", source)
	}
	if len(b.Data) > 0 {
		keys := make([]string, 0, len(b.Data))
		for k := range b.Data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return nil, fmt.Errorf("policybundle: %s: carries data (under %s); a policy bundle carries .rego files only, the directory data comes from the server", source, strings.Join(keys, ", "))
	}
	if len(b.WasmModules) > 0 || len(b.PlanModules) > 0 {
		return nil, fmt.Errorf("policybundle: %s: carries Wasm or plan modules; a policy bundle carries .rego files only", source)
	}
	out := &Bundle{Revision: b.Manifest.Revision, Signed: verified && len(b.Signatures.Signatures) > 0}
	for _, m := range b.Modules {
		rel := strings.TrimPrefix(path.Clean("/"+m.RelativePath), "/")
		out.Modules = append(out.Modules, rego.Module{
			Path:   rel,
			File:   strings.TrimSuffix(source, "/") + "/" + rel,
			Origin: rego.OriginBundle,
			Source: m.Raw,
		})
	}
	slices.SortFunc(out.Modules, func(a, b rego.Module) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}
