package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/policybundle"
	"github.com/pingauthz/pingauthz/internal/policybundle/bundletest"
)

const bundledDecision = `package clearml.sso

decision := {
	"allow": false, "signup": false, "company": "", "role": null,
	"sync_groups": false, "groups": [], "reasons": ["deny:bundled"], "message": "",
}
`

// policy bundle builds a signed bundle of the override directory; config
// check loads it as serve would, and refuses it under another key or
// tampered with.
func TestPolicyBundleAndConfigCheck(t *testing.T) {
	private, public := bundletest.KeyPair(t)
	_, otherPublic := bundletest.KeyPair(t)
	dir := t.TempDir()
	bundletest.WriteFile(t, filepath.Join(dir, "decision.rego"), bundledDecision)
	bundletest.WriteFile(t, filepath.Join(dir, "extra", "helper.rego"), "package clearml.extra\n\nx := 1\n")
	out := filepath.Join(t.TempDir(), "policy.tar.gz")
	env := append([]string{config.VarName("policy__dir", false) + "=" + dir}, baseEnv...)
	code, _, stderr := cli(t, env, "", "policy", "bundle", "--out", out, "--signing-key", private, "--revision", "2030-01-02")
	if code != 0 || !strings.Contains(stderr, "2 files, revision 2030-01-02, signed RS256") {
		t.Fatalf("policy bundle: exit %d, %s", code, stderr)
	}
	vc, err := policybundle.Verification(public)
	if err != nil {
		t.Fatal(err)
	}
	b, err := policybundle.LoadFile(out, vc)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, m := range b.Modules {
		paths = append(paths, m.Path)
	}
	if got := strings.Join(paths, " "); got != "clearml/sso/decision.rego extra/helper.rego" || b.Revision != "2030-01-02" {
		t.Errorf("bundle revision %q, files %s", b.Revision, got)
	}

	check := func(bundle, key string) (int, string) {
		env := append([]string{
			config.VarName("policy__bundle", false) + "=" + bundle,
			config.VarName("policy__bundle_public_key", false) + "=" + key,
		}, baseEnv...)
		code, _, stderr := cli(t, env, "", "config", "check")
		return code, stderr
	}
	if code, stderr := check(out, public); code != 0 || !strings.Contains(stderr, `revision "2030-01-02", verified: true`) {
		t.Errorf("config check: exit %d, %s", code, stderr)
	}
	if code, stderr := check(out, otherPublic); code != 2 || !strings.Contains(stderr, "verify") {
		t.Errorf("config check, another key: exit %d, %s", code, stderr)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(t.TempDir(), "tampered.tar.gz")
	bundletest.WriteFile(t, tampered, string(bundletest.Tamper(t, raw, "clearml/sso/decision.rego", strings.ReplaceAll(bundledDecision, "deny:bundled", "deny:evil"))))
	if code, stderr := check(tampered, public); code != 2 || !strings.Contains(stderr, "digest mismatch") {
		t.Errorf("config check, tampered: exit %d, %s", code, stderr)
	}

	// policy eval decides with the bundle's policies.
	env = append([]string{config.VarName("policy__bundle", false) + "=" + out,
		config.VarName("policy__bundle_public_key", false) + "=" + public}, baseEnv...)
	input := filepath.Join(t.TempDir(), "in.json")
	bundletest.WriteFile(t, input, `{"identity": {"issuer": "i", "subject": "s", "user_id": "s", "email": "a@b.c", "name": "", "groups": [], "claims": {}}, "user": null}`)
	if code, stdout, stderr := cli(t, env, "", "policy", "eval", "--input", input); code != 0 || !strings.Contains(stdout, "deny:bundled") {
		t.Errorf("policy eval: exit %d, %s %s", code, stdout, stderr)
	}
}

func TestPolicyBundleNeedsOperatorPolicies(t *testing.T) {
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	if code, _, stderr := cli(t, baseEnv, "", "policy", "bundle", "--out", out); code != 2 || !strings.Contains(stderr, "no operator policies") {
		t.Errorf("exit %d, %s", code, stderr)
	}
	if code, _, _ := cli(t, baseEnv, "", "policy", "bundle", "--out", out, "--include-defaults"); code != 0 {
		t.Errorf("--include-defaults: exit %d", code)
	}
	if code, _, _ := cli(t, baseEnv, "", "policy", "bundle"); code != 2 {
		t.Errorf("without --out: exit %d", code)
	}
}
