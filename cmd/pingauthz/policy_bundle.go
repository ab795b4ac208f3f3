package main

import (
	"context"
	"crypto"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/policybundle"
	"github.com/pingauthz/pingauthz/rego"
)

const bundleUsage = `Usage: pingauthz policy bundle --out FILE [--signing-key KEY] [--revision REV] [--include-defaults]

Builds an OPA bundle, in the format opa build writes, of the operator's
policies in the effective set: the .rego files of policy__dir (or of the
configured policy__bundle), at their paths in the set. Every server that
loads it with policy__bundle composes it with its own defaults and the
config.rego generated from its environment, as policy__dir does; the
generated config.rego is never bundled. The whole effective set must
compile first.

With --signing-key (a PEM private key: RSA, ECDSA or Ed25519) the bundle
carries .signatures.json; servers with policy__bundle_public_key refuse a
bundle that is unsigned or whose files do not match the signature.

Flags:
`

func policyBundle(ctx context.Context, env *cliEnv, args []string) error {
	fs := policyFlags("bundle")
	out := fs.String("out", "", "`file` to write the bundle (.tar.gz) to (required)")
	key := fs.String("signing-key", "", "PEM private `key` (or its path) to sign the bundle with")
	alg := fs.String("signing-alg", "", "signature `algorithm`; default RS256 for RSA, ES256/ES384/ES512 for ECDSA, EdDSA for Ed25519")
	revision := fs.String("revision", "", "the manifest's `revision`; default the bundled files' sha256 revision")
	all := fs.Bool("include-defaults", false, "bundle the default policies too, pinning them to this version's")
	if err := parseCommandFlags(fs, bundleUsage, env, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("policy bundle: unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return usageErr("policy bundle: --out is required")
	}
	cfg, err := loadPolicyConfig(env)
	if err != nil {
		return err
	}
	mods, _, err := policyModules(ctx, env, cfg)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if _, err := rego.New(ctx, cfg, rego.WithModules(mods)); err != nil {
		return &exitError{code: 2, err: err}
	}
	var picked []rego.Module
	for _, m := range mods {
		if m.Origin == rego.OriginOverride || m.Origin == rego.OriginBundle || (*all && m.Origin == rego.OriginDefault) {
			picked = append(picked, m)
		}
	}
	if len(picked) == 0 {
		return &exitError{code: 2, err: fmt.Errorf("policy bundle: the policy set has no operator policies to bundle (set %s, or pass --include-defaults)",
			config.VarName("policy__dir", false))}
	}
	if *revision == "" {
		*revision = rego.Revision(picked)
	}
	b := bundle.Bundle{Manifest: bundle.Manifest{Revision: *revision}, Data: map[string]any{}}
	b.Manifest.Init()
	for _, m := range picked {
		b.Modules = append(b.Modules, bundle.ModuleFile{URL: "/" + m.Path, Path: "/" + m.Path, Raw: m.Source})
	}
	if *key != "" {
		if *alg == "" {
			if *alg, err = signingAlgorithm(*key); err != nil {
				return &exitError{code: 2, err: err}
			}
		}
		if err := b.GenerateSignature(bundle.NewSigningConfig(*key, *alg, ""), "", false); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("policy bundle: signing: %w", err)}
		}
	}
	if err := writeBundle(*out, b); err != nil {
		return err
	}
	signed := "unsigned"
	if *key != "" {
		signed = "signed " + *alg
	}
	fmt.Fprintf(env.stderr, "pingauthz: wrote %s: %d files, revision %s, %s\n", *out, len(picked), *revision, signed)
	return nil
}

// signingAlgorithm picks the algorithm a private key's type implies, the
// one servers verify its public key with.
func signingAlgorithm(key string) (string, error) {
	k, err := bundle.NewSigningConfig(key, "RS256", "").GetPrivateKey()
	if err != nil {
		return "", fmt.Errorf("policy bundle: --signing-key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return "", fmt.Errorf("policy bundle: --signing-key: not a private key")
	}
	return policybundle.Algorithm(signer.Public())
}

func writeBundle(path string, b bundle.Bundle) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bundle-*")
	if err != nil {
		return fmt.Errorf("policy bundle: %w", err)
	}
	err = bundle.NewWriter(tmp).Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("policy bundle: %w", err)
	}
	return nil
}

// policyModules returns the effective policy set of cfg. With
// policy__bundle, the bundle is loaded and verified as the server loads it
// at start (a remote one downloaded, or else taken from the cache); its
// revision is returned too.
func policyModules(ctx context.Context, env *cliEnv, cfg *config.Config) ([]rego.Module, string, error) {
	if cfg.PolicyBundle == "" {
		mods, err := rego.EffectiveModules(cfg)
		return mods, "", err
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "pingauthz", Output: env.stderr, Level: hclog.Warn})
	src, err := policybundle.Open(ctx, cfg, policybundle.RemoteOptions{Manual: true}, log)
	if err != nil {
		return nil, "", err
	}
	mods, err := rego.EffectiveModulesWith(cfg, src.Initial.Modules)
	return mods, src.Initial.Revision, err
}
