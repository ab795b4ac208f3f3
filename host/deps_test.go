package host_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoPolicyEngine keeps OPA out of the host and the plugin contract: a
// server that embeds them links no policy engine. The plugin binary does.
func TestNoPolicyEngine(t *testing.T) {
	for _, pkg := range []string{"github.com/pingauthz/pingauthz/host", "github.com/pingauthz/pingauthz/plugin"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		var opa []string
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "github.com/open-policy-agent/") {
				opa = append(opa, dep)
			}
		}
		if len(opa) > 0 {
			t.Errorf("%s links %d OPA packages, want none; the first: %s", pkg, len(opa), opa[0])
		}
	}
}
