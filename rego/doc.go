// Package rego turns the Ping SSO configuration into Rego and evaluates the
// sign-up, role and group decision for each login with OPA.
//
// GenerateConfig renders the configuration module (package clearml.config).
// EffectiveModules combines it with the embedded default policies (package
// policies) and the operator's override directory (Config.PolicyDir): an
// override whose base name equals a default file's replaces it, others are
// added. New compiles that set once and prepares the query
// data.clearml.sso.decision; SetDirectory writes the companies, groups and
// whitelist into the OPA store together with lookup indexes built in Go, so
// a decision costs the same however many groups a company has; Decide
// evaluates one login.
//
// A policy that fails, is undefined, or returns a decision of the wrong shape
// never allows: Decide returns a deny with the reason sso.ReasonPolicyError and
// reports the detail to the logger (DecideDetail returns it). The reason
// codes are listed in reasons.go and policies/README.md.
//
// The package does not read the environment, talk to Ping or apply a
// decision; the host does.
package rego
