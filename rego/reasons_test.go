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

// tableCodes matches the first cell of a table row, a code in backquotes.
var tableCodes = regexp.MustCompile("(?m)^\\| `([a-z_]+(?::[a-z_]+)?)` \\|")

// readmeSection is the part of readme from heading to the next "## ".
func readmeSection(t *testing.T, readme []byte, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(string(readme), heading+"\n")
	if !ok {
		t.Fatalf("policies/README.md has no %q", heading)
	}
	section, _, _ := strings.Cut(rest, "\n## ")
	return section
}

// TestExtensionRulesDocumented keeps the extension rules and the README
// table in step, in order.
func TestExtensionRulesDocumented(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "policies", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var documented, want []string
	for _, m := range tableCodes.FindAllStringSubmatch(readmeSection(t, readme, "## Extending the decision: package `clearml.sso.extend`"), -1) {
		documented = append(documented, m[1])
	}
	for _, r := range extensionRules {
		want = append(want, r.name)
	}
	if !slices.Equal(documented, want) {
		t.Errorf("README extension table %v, want %v", documented, want)
	}
}

// TestReasonsDocumented keeps sso.Reasons, the README table and the default
// policy in step.
func TestReasonsDocumented(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "policies", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range tableCodes.FindAllStringSubmatch(readmeSection(t, readme, "## Reason codes"), -1) {
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
