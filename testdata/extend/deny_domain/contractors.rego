# Example 2: no sign-ups from one email domain, with a message for the
# denial page. Existing users from the domain still sign in.
package clearml.sso.extend

import data.clearml.email

deny_signup contains {
	"code": "deny:contractor_domain",
	"message": "Sign-ups from contractor.example are closed. Ask your ClearML admin for an account.",
} if {
	email.domain(input.identity.email) == "contractor.example"
}
