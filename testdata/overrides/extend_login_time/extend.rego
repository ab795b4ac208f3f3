# A message read from a claim: its type is known only at login time, and no
# probe login has the claim. A login with a number there gets policy_error.
package clearml.sso.extend

deny contains {"code": "deny:flagged", "message": input.identity.claims.note} if {
	input.identity.claims.flagged == true
}
