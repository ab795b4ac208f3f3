# Rules of the wrong shape, and a misspelt rule name.
package clearml.sso.extend

deny contains {"code": "deny:no_message"} if input.identity.email == ""

company contains "c2" if input.identity.email_verified

admin[group] := true if some group in input.identity.groups

not_admin(code) := code if input.user

deny_sigup contains {"code": "deny:typo", "message": "never consulted"} if true
