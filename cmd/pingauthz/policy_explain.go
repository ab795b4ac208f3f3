package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/pingauthz/pingauthz/sso"
)

// explainDecision renders d for a person: the outcome on one line, then
// each reason code with its sentence (sso.Sentence), the one table the
// pages use too. An extension's deny shows the operator's message.
func explainDecision(d *sso.Decision) string {
	var b strings.Builder
	b.WriteString(outcome(d) + "\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, code := range d.Reasons {
		sentence := sso.Sentence(code)
		if !d.Allow && d.Message != "" && strings.HasPrefix(code, "deny:") {
			sentence = d.Message + " (the operator's message)"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", code, sentence)
	}
	tw.Flush()
	return b.String()
}

func outcome(d *sso.Decision) string {
	if !d.Allow {
		return "denied"
	}
	var parts []string
	if d.Signup {
		parts = append(parts, "allowed: a new user signs up into company "+d.Company)
	} else {
		parts = append(parts, "allowed: signs in to company "+d.Company)
	}
	if d.Role != nil {
		parts = append(parts, "role "+*d.Role)
	} else {
		parts = append(parts, "role unchanged")
	}
	switch {
	case d.SyncGroups && len(d.Groups) > 0:
		parts = append(parts, "groups "+strings.Join(d.Groups, ", "))
	case d.SyncGroups:
		parts = append(parts, "no groups")
	default:
		parts = append(parts, "groups unchanged")
	}
	return strings.Join(parts, "; ")
}
