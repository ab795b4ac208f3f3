package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/rego"
)

const policyUsage = `Usage: pingauthz policy COMMAND [flags]

Works on the effective policy set: the default policies, config.rego
generated from the CLEARML__ environment, and the .rego files of policy__dir
(extension files of package clearml.sso.extend and other additions; a file
named like a default, in the same package, replaces it).

These commands read only the variables that shape the policy:
default_company, the groups__ keys, require_verified_email and the policy__
keys. The Ping endpoints, client id and client secret are not needed and
not read (placeholders stand in for them).

Commands:
  render [--out DIR]                       write the effective set to DIR, or print it
  eval --input FILE [--directory FILE]     print the decision for one login as JSON
  test [-v] [--run REGEX] [DIR]            run the Rego tests of the effective set, or of DIR
  bundle --out FILE [--signing-key KEY]    build an OPA bundle of the operator's policies

Exit status: 0 on success (eval: allowed or denied alike), 1 when a test
fails, 2 on a configuration, policy or input error.
`

// runPolicy runs `pingauthz policy`.
func runPolicy(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(env.stderr, policyUsage)
		return usageErr("policy: want a command: render, eval, test or bundle")
	}
	switch args[0] {
	case "render":
		return policyRender(env, args[1:])
	case "eval":
		return policyEval(ctx, env, args[1:])
	case "test":
		return policyTest(ctx, env, args[1:])
	case "bundle":
		return policyBundle(ctx, env, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(env.stdout, policyUsage)
		return nil
	}
	fmt.Fprint(env.stderr, policyUsage)
	return usageErr("policy: unknown command %q", args[0])
}

func policyFlags(name string) *flag.FlagSet {
	return flag.NewFlagSet("policy "+name, flag.ContinueOnError)
}

// effectiveModules loads the policy-shaping configuration and its policy
// set.
func effectiveModules(env *cliEnv) (*config.Config, []rego.Module, error) {
	cfg, err := loadPolicyConfig(env)
	if err != nil {
		return nil, nil, err
	}
	mods, _, err := policyModules(context.Background(), env, cfg)
	if err != nil {
		return nil, nil, &exitError{code: 2, err: err}
	}
	return cfg, mods, nil
}

const renderUsage = `Usage: pingauthz policy render [--out DIR]

Writes the effective policy set to DIR in its package layout (created when
absent; files of the set are overwritten, and any other .rego file in DIR is
an error), so that opa test DIR runs its tests. Without --out, prints every
file after a "# file: PATH (ORIGIN)" line.

Flags:
`

func policyRender(env *cliEnv, args []string) error {
	fs := policyFlags("render")
	out := fs.String("out", "", "`directory` to write the policy set to")
	if err := parseCommandFlags(fs, renderUsage, env, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("policy render: unexpected argument %q", fs.Arg(0))
	}
	_, mods, err := effectiveModules(env)
	if err != nil {
		return err
	}
	if *out == "" {
		for i, m := range mods {
			if i > 0 {
				fmt.Fprintln(env.stdout)
			}
			fmt.Fprintf(env.stdout, "# file: %s (%s)\n", m.Path, originOf(m))
			env.stdout.Write(m.Source)
		}
		return nil
	}
	if err := writeModules(*out, mods); err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "pingauthz: wrote %d files to %s (revision %s)\n", len(mods), *out, rego.Revision(mods))
	return nil
}

func originOf(m rego.Module) string {
	if m.Origin == rego.OriginOverride {
		return "override " + m.File
	}
	return m.Origin
}

// writeModules writes mods under dir, refusing a dir that holds other .rego
// files, which opa test would load too.
func writeModules(dir string, mods []rego.Module) error {
	want := map[string]bool{}
	for _, m := range mods {
		want[filepath.FromSlash(m.Path)] = true
	}
	var stray []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return fs.SkipAll
		}
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err == nil && !want[rel] {
			stray = append(stray, rel)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("policy render: %w", err)
	}
	if len(stray) > 0 {
		return usageErr("policy render: %s holds .rego files outside the policy set (%s); use an empty directory",
			dir, strings.Join(stray, ", "))
	}
	for _, m := range mods {
		p := filepath.Join(dir, filepath.FromSlash(m.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("policy render: %w", err)
		}
		if err := os.WriteFile(p, m.Source, 0o644); err != nil {
			return fmt.Errorf("policy render: %w", err)
		}
	}
	return nil
}

const evalUsage = `Usage: pingauthz policy eval --input FILE [--directory FILE] [--explain]

Evaluates data.clearml.sso.decision for one login and prints the decision as
JSON. --input holds {"identity": {...}, "user": null | {...}}, as the relying
party delivers it (an email's Unicode domain in its xn-- form); --directory
holds {"companies": {...}, "whitelist": {"emails": {...}, "domains": {...}}}
(an empty directory when omitted). "-" reads standard input. Unknown fields
are errors. With --explain, the JSON is followed by the outcome and each
reason as the sentence the pages show (an extension's deny: its message).
Exit status 0 whether the login is allowed or denied; 2 on a configuration,
policy or input error (a policy_error decision included).

Flags:
`

func policyEval(ctx context.Context, env *cliEnv, args []string) error {
	fs := policyFlags("eval")
	inputPath := fs.String("input", "", "input `file` (required)")
	dirPath := fs.String("directory", "", "directory `file`")
	explain := fs.Bool("explain", false, "follow the JSON with the reasons as sentences")
	if err := parseCommandFlags(fs, evalUsage, env, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("policy eval: unexpected argument %q", fs.Arg(0))
	}
	if *inputPath == "" {
		return usageErr("policy eval: --input is required")
	}
	if *inputPath == "-" && *dirPath == "-" {
		return usageErr("policy eval: only one of --input and --directory can be -")
	}
	cfg, err := loadPolicyConfig(env)
	if err != nil {
		return err
	}
	var in *sso.Input
	if err := readJSONFile(env, *inputPath, func(r io.Reader) (err error) { in, err = rego.DecodeInput(r); return }); err != nil {
		return err
	}
	dir := &sso.Directory{}
	if *dirPath != "" {
		if err := readJSONFile(env, *dirPath, func(r io.Reader) (err error) { dir, err = rego.DecodeDirectory(r); return }); err != nil {
			return err
		}
	}
	// Warnings, such as whitelist keys no login can match, go to stderr.
	logger := hclog.New(&hclog.LoggerOptions{Output: env.stderr, Level: hclog.Warn, DisableTime: true, Name: "pingauthz"})
	mods, _, err := policyModules(ctx, env, cfg)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	engine, err := rego.New(ctx, cfg, rego.WithLogger(logger), rego.WithModules(mods))
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if err := engine.SetDirectory(ctx, dir); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("%s: %w", *dirPath, err)}
	}
	d, perr, err := engine.DecideDetail(ctx, in)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return err
	}
	if *explain {
		fmt.Fprintln(env.stdout)
		fmt.Fprint(env.stdout, explainDecision(d))
	}
	if perr != nil {
		return &exitError{code: 2, err: perr}
	}
	return nil
}

// policySetOf returns the modules a loaded directory holds when they are a
// pingauthz policy set (a module of package clearml.sso), else nil.
func policySetOf(result *loader.Result) []rego.Module {
	var mods []rego.Module
	ours := false
	for _, f := range result.Modules {
		ours = ours || f.Parsed != nil && f.Parsed.Package.Path.String() == "data.clearml.sso"
		mods = append(mods, rego.Module{Path: filepath.ToSlash(f.Name), File: f.Name, Origin: rego.OriginOverride, Source: f.Raw})
	}
	if !ours {
		return nil
	}
	return mods
}

// readJSONFile opens path ("-" is stdin) and decodes it, naming the file in
// errors.
func readJSONFile(env *cliEnv, path string, decode func(io.Reader) error) error {
	var r io.Reader = env.stdin
	name := "standard input"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		defer f.Close()
		r, name = f, path
	}
	if err := decode(r); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("%s: %w", name, err)}
	}
	return nil
}

const testUsage = `Usage: pingauthz policy test [-v] [--run REGEX] [--timeout D] [DIR]

Runs the Rego tests (rules named test_...) of the effective policy set, or of
the .rego, .json and .yaml files under DIR (as opa test DIR does), and prints
the results as opa test does. The effective set, or a DIR that holds a
pingauthz policy set (package clearml.sso, as policy render writes it), is
first checked as config check does: compiled, extension rules checked, and
evaluated on the probe logins. Exit status 1 when a test fails, 2 when the
files do not load, compile or pass the check.

Flags:
`

func policyTest(ctx context.Context, env *cliEnv, args []string) error {
	fs := policyFlags("test")
	verbose := fs.Bool("v", false, "print every test, with its trace on failure")
	runRe := fs.String("run", "", "run only tests whose names match this regular `expression`")
	timeout := fs.Duration("timeout", 5*time.Second, "time limit for each test")
	if err := parseCommandFlags(fs, testUsage, env, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usageErr("policy test: want at most one directory, got %d", fs.NArg())
	}
	cfg, err := loadPolicyConfig(env)
	if err != nil {
		return err
	}
	var (
		mods    []rego.Module
		modules map[string]*ast.Module
		data    map[string]any
	)
	if fs.NArg() == 1 {
		result, err := loader.NewFileLoader().WithRegoVersion(ast.RegoV1).All([]string{fs.Arg(0)})
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("policy test: %w", err)}
		}
		modules, data = result.ParsedModules(), result.Documents
		mods = policySetOf(result)
	} else {
		if mods, _, err = policyModules(ctx, env, cfg); err != nil {
			return &exitError{code: 2, err: err}
		}
		if modules, err = rego.ParseModules(mods); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	if mods != nil {
		if _, err := rego.Check(ctx, cfg, rego.WithModules(mods)); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	allowed := cfg.PolicyInsecureBuiltins
	ch, err := rego.RunTests(ctx, modules, data, rego.TestOptions{Run: *runRe, Trace: *verbose, Timeout: *timeout, InsecureBuiltins: allowed})
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	failed := 0
	counted := make(chan *tester.Result)
	go func() {
		defer close(counted)
		for r := range ch {
			if !r.Pass() && !r.Skip {
				failed++
			}
			counted <- r
		}
	}()
	if err := (tester.PrettyReporter{Output: env.stdout, Verbose: *verbose}).Report(counted); err != nil {
		return err
	}
	if failed > 0 {
		return &exitError{code: 1}
	}
	return nil
}
