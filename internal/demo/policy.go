package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/plugin/ping"
	"github.com/pingauthz/pingauthz/rego"
	"github.com/pingauthz/pingauthz/sso"
)

// connectionKeys are the provider keys that name a provider, a client or
// how to talk to it. The demo points them at its emulator, so a caller's
// values are dropped.
var connectionKeys = []string{
	"authorize_url", "access_token_url", "issuer", "jwks_url", "userinfo_url",
	"token_endpoint_auth_method", "code_challenge", "code_challenge_method", "scopes",
	"client_id", "client_secret",
}

// PolicyEnv returns the caller's CLEARML__ variables the demo keeps: every
// provider key that shapes the policy or the identity (policy__dir, the
// groups__ keys, claims__ keys, default_company and the like), and the
// names of the provider variables it drops because they name a provider or
// a client (authorize_url, client_secret, ...). Variables outside the
// provider's sections are dropped without a mention.
func PolicyEnv(environ []string) (keep, dropped []string) {
	services := strings.ToLower(config.VarName("", false))
	secure := strings.ToLower(config.VarName("", true))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		lower := strings.ToLower(name)
		var key string
		switch {
		case strings.HasPrefix(lower, services):
			key = lower[len(services):]
		case strings.HasPrefix(lower, secure):
			key = lower[len(secure):]
		default:
			continue
		}
		if slices.Contains(connectionKeys, key) {
			dropped = append(dropped, name)
			continue
		}
		keep = append(keep, kv)
	}
	return keep, dropped
}

// mergeEnv returns base with the entries of over appended; an entry of over
// replaces base's entries for the same variable (names compare without
// letter case, as ClearML reads them).
func mergeEnv(base, over []string) []string {
	out := slices.Clone(base)
	for _, kv := range over {
		name, _, _ := strings.Cut(kv, "=")
		out = slices.DeleteFunc(out, func(e string) bool {
			n, _, _ := strings.Cut(e, "=")
			return strings.EqualFold(n, name)
		})
		out = append(out, kv)
	}
	return out
}

// emulatorFaults shapes the emulator's claims the way cfg reads them: the
// groups claim's name, and DNs when groups__from_dn is on.
func emulatorFaults(cfg *config.Config) (pingemu.Faults, error) {
	f := pingemu.Faults{GroupsClaim: cfg.Groups.Claim, GroupsAsDN: cfg.Groups.FromDN}
	if strings.HasPrefix(f.GroupsClaim, "/") {
		return f, fmt.Errorf("demo: %s %q is a JSON pointer; the emulator sends groups in a top-level claim only, so name one",
			config.VarName("groups__claim", false), f.GroupsClaim)
	}
	if err := f.Validate(); err != nil {
		return f, fmt.Errorf("demo: %s: %w", config.VarName("groups__claim", false), err)
	}
	return f, nil
}

// PolicyFile is a file of policy__dir in the effective policy set.
type PolicyFile struct {
	// File is the file on disk; Path its place in the set.
	File, Path string
	// Replaces is true when the file replaces the default of the same name.
	Replaces bool
	// Extension is true for a module of package clearml.sso.extend.
	Extension bool
	// Test is true for a *_test.rego file.
	Test bool
}

// Policy describes the policy set the demo runs.
type Policy struct {
	// Revision is the running plugin's policy revision.
	Revision string
	// Dir is policy__dir ("" when unset) and Files its files in the set.
	Dir   string
	Files []PolicyFile
}

// extendPackage is the package of the operators' extension rules.
const extendPackage = "data.clearml.sso.extend"

// describePolicy lists the files policy__dir brings into cfg's policy set.
func describePolicy(cfg *config.Config) (Policy, error) {
	p := Policy{Dir: cfg.PolicyDir}
	mods, err := rego.EffectiveModules(cfg)
	if err != nil {
		return p, err
	}
	parsed, err := rego.ParseModules(mods)
	if err != nil {
		return p, err
	}
	noDir := *cfg
	noDir.PolicyDir = ""
	plain, err := rego.EffectiveModules(&noDir)
	if err != nil {
		return p, err
	}
	defaults := map[string]bool{}
	for _, m := range plain {
		defaults[m.Path] = true
	}
	for _, m := range mods {
		if m.Origin != rego.OriginOverride {
			continue
		}
		f := PolicyFile{File: m.File, Path: m.Path, Replaces: defaults[m.Path], Test: m.IsTest()}
		if pm := parsed[m.File]; pm != nil {
			f.Extension = pm.Package.Path.String() == extendPackage
		}
		p.Files = append(p.Files, f)
	}
	return p, nil
}

// expectations says what a first login decides for each account, asking
// the running plugin with the identity the relying party would extract
// from the claims the emulator sends.
func (d *Demo) expectations(ctx context.Context, cfg *config.Config) (map[string]string, error) {
	if err := d.Server.Plugin.PushDirectory(ctx); err != nil {
		return nil, err
	}
	scope := strings.Join(cfg.Scopes, " ")
	out := make(map[string]string, len(d.Users))
	for _, u := range d.Users {
		claims, err := d.IdP.ReleasedClaims(u.Username, scope)
		if err != nil {
			return nil, err
		}
		sub, _ := claims["sub"].(string)
		id, err := ping.ExtractIdentity(*cfg, d.IdP.Issuer(), sub, claims)
		if err != nil {
			out[u.Username] = "login fails: " + strings.TrimPrefix(err.Error(), "ping: ")
			continue
		}
		dec, err := d.Server.Plugin.Decide(ctx, &sso.Input{Identity: *id})
		if err != nil {
			return nil, fmt.Errorf("demo: deciding for %s: %w", u.Username, err)
		}
		out[u.Username] = outcome(dec)
	}
	return out, nil
}

// outcome says what a decision means for the user, in a few words.
func outcome(dec *sso.Decision) string {
	if !dec.Allow {
		why := dec.Message
		if why == "" && len(dec.Reasons) > 0 {
			why = strings.TrimSuffix(sso.Sentence(dec.Reasons[0]), ".")
		}
		return "denied: " + why
	}
	role := "role unchanged"
	if dec.Role != nil {
		role = *dec.Role
	}
	if dec.SyncGroups && len(dec.Groups) > 0 {
		role += " in " + strings.Join(dec.Groups, ", ")
	}
	return role
}
