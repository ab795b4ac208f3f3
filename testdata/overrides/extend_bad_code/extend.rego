# Codes of the wrong form or with the wrong prefix.
package clearml.sso.extend

admin contains "role:Team-Leads" if "Team Leads" in input.identity.groups

deny_signup contains {"code": "signup:contractor", "message": "No sign-ups from contractor.example."} if {
	endswith(input.identity.email, "@contractor.example")
}

signup contains "signup:default_company" if input.identity.email_verified
