# Values of the wrong type.
package clearml.sso.extend

company := 42

groups := "ML Team"

signup contains 7 if input.identity.email_verified

deny contains {"code": "deny:too_many_groups", "message": n} if {
	n := count(input.identity.groups)
	n > 100
}
