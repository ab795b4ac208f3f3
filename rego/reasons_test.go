package rego

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/policies"
)

// TestReasonsDocumented keeps sso.Reasons, the README table and the default
// policy in step.
func TestReasonsDocumented(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "policies", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+(?::[a-z_]+)?)` \\|").FindAllStringSubmatch(string(readme), -1) {
		documented = append(documented, m[1])
	}
	policy, err := policies.FS.ReadFile("clearml/sso/decision.rego")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sso.Reasons() {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is not in the README table", r)
		}
		if r != sso.ReasonPolicyError && !strings.Contains(string(policy), `"`+r+`"`) {
			t.Errorf("%s does not occur in decision.rego", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(sso.Reasons(), r) {
			t.Errorf("README documents %s, which sso.Reasons lacks", r)
		}
	}
	for _, c := range loadCases(t) {
		for _, r := range c.Want.Reasons {
			if !slices.Contains(sso.Reasons(), r) {
				t.Errorf("case %q expects undocumented reason %s", c.Name, r)
			}
		}
	}
}
