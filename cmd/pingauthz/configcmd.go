package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/rego"
)

const configUsage = `Usage: pingauthz config check [--json]

Reads the CLEARML__ environment the way the server does. When it is valid:
exit status 0, warnings on stderr, and the effective configuration on stdout
with the client secret masked. When it is not: exit status 2 and every
problem listed on stderr, one per line, naming its variable.

The policy set (the defaults plus the files of policy__dir) is checked as
the server and the plugin check it at start: it must compile (naming file
and line), its extension rules (package clearml.sso.extend) must have the
right names, types and codes, and the decision must have the right shape on
built-in probe logins (new and existing users, with and without groups,
whitelisted or not); a failure names the file, the rule and the probe.

Flags:
`

// runConfig runs `pingauthz config`.
func runConfig(ctx context.Context, env *cliEnv, args []string) error {
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the configuration as a JSON object")
	if len(args) == 0 || args[0] != "check" {
		// "config -h" is help for "config check", the only subcommand.
		if len(args) > 0 && isHelpFlag(args[0]) {
			return parseCommandFlags(fs, configUsage, env, args[:1])
		}
		printFlagUsage(env.stderr, fs, configUsage)
		return usageErr("config: want the subcommand check")
	}
	if err := parseCommandFlags(fs, configUsage, env, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("config check: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := loadEnvConfig(env)
	if err != nil {
		return err
	}
	// The policy set is part of the configuration: check it before saying so.
	// A bundle is loaded and its signature verified as serve would.
	mods, bundleRev, err := policyModules(ctx, env, cfg)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	set, err := rego.Check(ctx, cfg, rego.WithModules(mods))
	if err != nil {
		return &exitError{code: 2, err: err}
	}

	summary := cfg.Summary()
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(summary); err != nil {
			return err
		}
	} else {
		keys := make([]string, 0, len(summary))
		for k := range summary {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(env.stdout, "%s = %s\n", k, summary[k])
		}
	}
	mods = set.Modules()
	overrides := 0
	for _, m := range mods {
		if m.Origin == rego.OriginOverride {
			overrides++
		}
	}
	if cfg.PolicyBundle != "" {
		fmt.Fprintf(env.stderr, "pingauthz: policy bundle %s, revision %q, verified: %v\n",
			cfg.PolicyBundle, bundleRev, cfg.PolicyBundlePublicKey != "")
	}
	extension := "none"
	if rules := set.Extension(); len(rules) > 0 {
		extension = strings.Join(rules, ", ")
	}
	fmt.Fprintf(env.stderr, "pingauthz: configuration valid; policy set %s compiles and passes %d probe logins "+
		"(%d files, %d from policy__dir; extension rules: %s)\n",
		set.Revision(), len(set.Probed()), len(mods), overrides, extension)
	return nil
}

// loadEnvConfig reads the configuration from env.environ and prints its
// warnings to stderr. An invalid environment is an exit status 2 error that
// lists every problem.
func loadEnvConfig(env *cliEnv) (*config.Config, error) {
	return reportConfig(env, config.Load)
}

// loadPolicyConfig is loadEnvConfig reading only the keys that shape the
// policy (config.LoadPolicy): no Ping endpoint or client secret needed.
func loadPolicyConfig(env *cliEnv) (*config.Config, error) {
	return reportConfig(env, config.LoadPolicy)
}

func reportConfig(env *cliEnv, load func([]string) (*config.Config, []config.Warning, error)) (*config.Config, error) {
	cfg, warnings, err := load(env.environ)
	for _, w := range warnings {
		fmt.Fprintf(env.stderr, "pingauthz: warning: %s\n", w)
	}
	if err == nil {
		return cfg, nil
	}
	var verr *config.ValidationError
	if !errors.As(err, &verr) {
		return nil, &exitError{code: 2, err: err}
	}
	lines := []string{fmt.Sprintf("invalid configuration (%d problem%s):", len(verr.Problems), plural(len(verr.Problems)))}
	for _, p := range verr.Problems {
		lines = append(lines, "  "+p.String())
	}
	return nil, &exitError{code: 2, err: errors.New(strings.Join(lines, "\n"))}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
