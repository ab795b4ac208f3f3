package demo

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/sso"
)

func TestPolicyEnv(t *testing.T) {
	v := config.VarName
	in := []string{
		"PATH=/bin",
		v("policy__dir", false) + "=/srv/policy",
		v("groups__admins", false) + `=["Team Leads"]`,
		strings.ToUpper(v("groups__claim", false)) + "=memberOf",
		v("claims__email", false) + "=mail",
		v("default_company", true) + "=acme",
		v("authorize_url", false) + "=https://auth.pingone.com/x/as/authorize",
		v("client_secret", true) + "=real-secret",
		v("code_challenge", false) + "=false",
		"CLEARML__apiserver__port=8008",
	}
	keep, dropped := PolicyEnv(in)
	if want := []string{in[1], in[2], in[3], in[4], in[5]}; !slices.Equal(keep, want) {
		t.Errorf("kept %q\nwant %q", keep, want)
	}
	if want := []string{v("authorize_url", false), v("client_secret", true), v("code_challenge", false)}; !slices.Equal(dropped, want) {
		t.Errorf("dropped %q\nwant %q", dropped, want)
	}
}

func TestMergeEnv(t *testing.T) {
	base := []string{"A__x=1", "B=2", "a__X=3"}
	got := mergeEnv(base, []string{"A__X=9", "C=4"})
	if want := []string{"B=2", "A__X=9", "C=4"}; !slices.Equal(got, want) {
		t.Errorf("mergeEnv = %q, want %q", got, want)
	}
	if !slices.Equal(base, []string{"A__x=1", "B=2", "a__X=3"}) {
		t.Errorf("mergeEnv changed its input: %q", base)
	}
}

func TestEmulatorFaults(t *testing.T) {
	cfg := config.Default()
	cfg.Groups.Claim, cfg.Groups.FromDN = "memberOf", true
	f, err := emulatorFaults(&cfg)
	if err != nil || f.GroupsClaim != "memberOf" || !f.GroupsAsDN {
		t.Errorf("emulatorFaults = %+v, %v", f, err)
	}
	for _, claim := range []string{"/ext/groups", "sub"} {
		cfg.Groups.Claim = claim
		if _, err := emulatorFaults(&cfg); err == nil || !strings.Contains(err.Error(), config.VarName("groups__claim", false)) {
			t.Errorf("claim %q: %v", claim, err)
		}
	}
}

func TestDescribePolicy(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"team_leads.rego":      "package clearml.sso.extend\n\nadmin contains \"role:team_lead\" if \"Team Leads\" in input.identity.groups\n",
		"team_leads_test.rego": "package clearml.sso.extend_test\n\ntest_nothing if true\n",
		"lib/helpers.rego":     "package clearml.helpers\n\nx := 1\n",
		"decision.rego":        "package clearml.sso\n\ndecision := {}\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default()
	cfg.PolicyDir = dir
	p, err := describePolicy(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, f := range p.Files {
		switch {
		case f.Test:
			kinds[f.Path] = "test"
		case f.Extension:
			kinds[f.Path] = "extension"
		case f.Replaces:
			kinds[f.Path] = "replaces"
		default:
			kinds[f.Path] = "adds"
		}
	}
	want := map[string]string{"team_leads.rego": "extension", "team_leads_test.rego": "test",
		"lib/helpers.rego": "adds", "clearml/sso/decision.rego": "replaces"}
	if len(kinds) != len(want) {
		t.Fatalf("files %+v", p.Files)
	}
	for k, v := range want {
		if kinds[k] != v {
			t.Errorf("%s: %q, want %q (files %+v)", k, kinds[k], v, p.Files)
		}
	}
	cfg.PolicyDir = filepath.Join(dir, "missing")
	if _, err := describePolicy(&cfg); err == nil {
		t.Error("describePolicy accepted a missing policy__dir")
	}
}

func TestOutcome(t *testing.T) {
	admin, user := sso.RoleAdmin, sso.RoleUser
	for _, tc := range []struct {
		d    sso.Decision
		want string
	}{
		{sso.Decision{Allow: true, Role: &admin, SyncGroups: true, Groups: []string{"ML Team"}}, "admin in ML Team"},
		{sso.Decision{Allow: true, Role: &user}, "user"},
		{sso.Decision{Allow: true}, "role unchanged"},
		{sso.Decision{Reasons: []string{sso.ReasonNotInGroup}}, "denied: " + strings.TrimSuffix(sso.Sentence(sso.ReasonNotInGroup), ".")},
		{sso.Decision{Reasons: []string{"deny:contractor"}, Message: "Contractors sign up through IT."}, "denied: Contractors sign up through IT."},
	} {
		if got := outcome(&tc.d); got != tc.want {
			t.Errorf("outcome(%+v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
