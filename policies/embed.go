// Package policies holds the default decision policies and their tests, as
// Rego files laid out by package path (clearml/sso, clearml/config, and
// system/log for the decision-log mask), embedded
// into the binary. It does not load or evaluate them; package rego does.
package policies

import "embed"

// FS holds every default .rego file under its path relative to this
// directory, e.g. "clearml/sso/decision.rego". clearml/config/config.rego is
// the configuration generated for config.Default().
//
//go:embed clearml system
var FS embed.FS
