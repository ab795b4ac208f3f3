// Package rego turns the Ping SSO configuration into Rego and evaluates the
// sign-up, role and group decision for each login with OPA.
//
// GenerateConfig renders the configuration module (package clearml.config).
// EffectiveModules combines it with the embedded default policies (package
// policies) and the operator's directory (Config.PolicyDir): extension
// files of package clearml.sso.extend and other additions, and, as a last
// resort, replacements of default files. Check is the one check a policy
// set passes before any login: it compiles the set (without the withheld
// builtins unless the operator names them), checks the extension rules,
// prepares the decision query, and evaluates it on built-in probe logins.
// New wraps the checked PolicySet in an Engine; SetDirectory writes the
// companies, groups and whitelist into its store together with lookup
// indexes built in Go, so a decision costs the same however many groups a
// company has; Decide evaluates one login.
//
// A policy that fails, is undefined, returns a decision of the wrong shape
// or an extension value of the wrong form never allows: Decide returns a
// deny with the reason sso.ReasonPolicyError and reports the detail to the
// logger (DecideDetail returns it). The reason codes are listed in package
// sso and policies/README.md.
//
// The package does not read the environment, talk to Ping or apply a
// decision; the host does.
package rego
