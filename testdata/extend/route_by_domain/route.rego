# Example 3: sign-ups go to a company chosen by email domain, and these
# domains may sign up without a whitelist entry. Other sign-ups keep the
# default company or their whitelist entry's.
package clearml.sso.extend

import data.clearml.email

_company_of_domain := {
	"research.example": "research",
	"ops.example": "operations",
}

company := _company_of_domain[email.domain(input.identity.email)]

signup contains "signup:routed_domain" if company
