package host

import (
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/internal/testutil"
)

// The host's login log lines carry the decision_id of the plugin's
// decision, so a login can be found in the decision log.
func TestLoginLogLinesCarryDecisionID(t *testing.T) {
	tests := []struct {
		name     string
		decision *sso.Decision
		line     string
	}{
		{"allow", nil, "login: account="},
		{"deny", &sso.Decision{Reasons: []string{"deny:email_not_verified"}}, "login denied:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logger, logs := testutil.Logger(t, "host")
			e := newTestEnvWith(t, "http://127.0.0.1:8080", func(c *HandlerConfig) { c.Logger = logger })
			if tc.decision != nil {
				e.auth.decision = *tc.decision
			}
			e.auth.decision.DecisionID = "5f0c2b9e-1d4a-4c3b-8e7f-0a1b2c3d4e5f"
			e.signIn("/")
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, tc.line) {
					if !strings.Contains(l, "decision_id=5f0c2b9e-1d4a-4c3b-8e7f-0a1b2c3d4e5f") {
						t.Errorf("log line without the decision id: %s", l)
					}
					return
				}
			}
			t.Fatalf("no %q line in:\n%s", tc.line, logs.String())
		})
	}
}
