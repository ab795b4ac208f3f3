# A code built at evaluation time: the check finds it on a probe login.
package clearml.sso.extend

signup contains concat(":", ["signup", upper(split(input.identity.email, "@")[1])]) if {
	input.identity.email != ""
}
