# The operator trial: Team Leads are admins; no sign-ups from
# contractor.example, with a message.
package clearml.sso.extend

import data.clearml.email

admin contains "role:team_lead" if "Team Leads" in input.identity.groups

deny_signup contains {
	"code": "deny:contractor",
	"message": "Sign-ups from contractor.example are closed. Ask your ClearML admin.",
} if email.domain(input.identity.email) == "contractor.example"
