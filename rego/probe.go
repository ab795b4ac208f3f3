package rego

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/pingauthz/pingauthz/sso"
)

// ProbeError is a policy set that compiles but fails on one of Check's
// probe logins: the evaluation failed, the decision was undefined or of the
// wrong shape, or an extension rule gave a malformed value.
type ProbeError struct {
	// Probe names the login, e.g. "new user, whitelisted, with groups".
	Probe string
	// Err says what went wrong; it names the rule and its file and line
	// where there is one.
	Err *PolicyError
}

func (e *ProbeError) Error() string {
	return fmt.Sprintf("rego: policy check: probe login %q: %s", e.Probe, e.Err.Detail+errSuffix(e.Err.Err))
}

func (e *ProbeError) Unwrap() error { return e.Err }

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

// The probe directory: a company with one group, an email and a domain on
// the whitelist (the domain with is_admin), and the default company of the
// configuration when it has one (added by probeDirectory).
const (
	probeCompany        = "probe-company"
	probeGroup          = "Probe Group"
	probeWhitelisted    = "probe-user@probe.example"
	probeWhitelistedDom = "probe-admins.example"
)

func probeDirectory(compiler *ast.Compiler) *sso.Directory {
	dir := &sso.Directory{
		Companies: map[string]sso.Company{probeCompany: {Name: "Probe Company", Groups: []string{probeGroup}}},
		Whitelist: sso.Whitelist{
			Emails:  map[string]sso.WhitelistEntry{probeWhitelisted: {Company: probeCompany}},
			Domains: map[string]sso.WhitelistEntry{probeWhitelistedDom: {Company: probeCompany, IsAdmin: true}},
		},
	}
	// The default company of the compiled configuration, when it is a
	// constant, exists too, so sign-ups through it get past unknown_company.
	for _, r := range compiler.GetRulesExact(ast.MustParseRef("data.clearml.config.default_company")) {
		if v, ok := constantValue(r); ok {
			if s, ok := v.Value.(ast.String); ok && s != "" {
				dir.Companies[string(s)] = sso.Company{Name: "Default Company", Groups: []string{probeGroup}}
			}
		}
	}
	return dir
}

// probeAdminGroups are the admin groups of the compiled configuration, so a
// probe can be in one.
func probeAdminGroups(compiler *ast.Compiler) []string {
	var out []string
	for _, r := range compiler.GetRulesExact(ast.MustParseRef("data.clearml.config.admin_groups")) {
		if v, ok := constantValue(r); ok {
			if set, ok := v.Value.(ast.Set); ok {
				set.Foreach(func(t *ast.Term) {
					if s, ok := t.Value.(ast.String); ok {
						out = append(out, string(s))
					}
				})
			}
		}
	}
	return out
}

// probe is one built-in login.
type probe struct {
	name string
	in   *sso.Input
}

// probes are the logins Check evaluates: new and existing users, with and
// without groups, whitelisted or not, with an unverified and an invalid
// email.
func probes(adminGroups []string) []probe {
	no := false
	identity := func(email string, groups []string) sso.Identity {
		return sso.Identity{
			Issuer: "https://probe.example/as", Subject: "probe", UserID: "probe",
			Email: email, Name: "Probe User", Groups: groups,
			Claims: map[string]any{"sub": "probe", "email": email, "groups": groups},
		}
	}
	withGroups := append([]string{probeGroup, "Not In ClearML"}, adminGroups...)
	user := func(role string) *sso.User {
		return &sso.User{ID: "probe-id", Company: probeCompany, Role: role, Groups: []string{probeGroup}}
	}
	unverified := identity(probeWhitelisted, nil)
	unverified.EmailVerified = &no
	return []probe{
		{"new user, whitelisted email, no groups", &sso.Input{Identity: identity(probeWhitelisted, nil)}},
		{"new user, whitelisted domain, with groups", &sso.Input{Identity: identity("lead@"+probeWhitelistedDom, withGroups)}},
		{"new user, not whitelisted, no groups", &sso.Input{Identity: identity("someone@elsewhere.example", nil)}},
		{"new user, not whitelisted, with groups", &sso.Input{Identity: identity("someone@elsewhere.example", withGroups)}},
		{"new user, whitelisted, email_verified false", &sso.Input{Identity: unverified}},
		{"new user, invalid email", &sso.Input{Identity: identity("someone@elsewhere.example@"+probeWhitelistedDom, withGroups)}},
		{"existing user, no groups", &sso.Input{Identity: identity("member@elsewhere.example", nil), User: user(sso.RoleUser)}},
		{"existing admin, with groups", &sso.Input{Identity: identity("member@elsewhere.example", withGroups), User: user(sso.RoleAdmin)}},
	}
}

// probe evaluates every probe login on the probe directory, then leaves
// the store with an empty directory.
func (s *PolicySet) probe(ctx context.Context, compiler *ast.Compiler, logger hclog.Logger) error {
	if err := s.setDirectory(ctx, probeDirectory(compiler), logger); err != nil {
		return err
	}
	for _, p := range probes(probeAdminGroups(compiler)) {
		_, perr, err := s.decide(ctx, p.in)
		if err != nil {
			return err
		}
		if perr != nil {
			perr.Detail += decisionWhere(compiler, perr)
			return &ProbeError{Probe: p.name, Err: perr}
		}
		s.probed = append(s.probed, p.name)
	}
	return s.setDirectory(ctx, &sso.Directory{}, logger)
}

// decisionWhere names where the decision is defined when a detail is about
// its shape (the extension rules and evaluation errors name their own).
func decisionWhere(compiler *ast.Compiler, perr *PolicyError) string {
	if perr.Err != nil || perr.extension {
		return ""
	}
	rules := compiler.GetRulesExact(ast.MustParseRef(DecisionQuery))
	if len(rules) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s, defined at %s)", DecisionQuery, locationString(rules[0].Location))
}
