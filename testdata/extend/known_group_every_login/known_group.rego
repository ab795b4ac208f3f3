# Example 6: prohibit_user_signup_if_not_in_group for every login. The
# ClearML page for Ping reads the setting as "allow logging in only for the
# users whose Ping groups are present in ClearML"; the built-in rule applies
# it to sign-ups, and this rule to existing users too.
package clearml.sso.extend

import data.clearml.config

deny contains {
	"code": "deny:no_known_group",
	"message": "None of your Ping groups exists in ClearML. Ask your ClearML admin.",
} if {
	config.prohibit_user_signup_if_not_in_group
	is_object(input.user)
	not _in_a_known_group
}

_in_a_known_group if {
	config.groups_case_sensitive
	some group in input.identity.groups
	group in data.clearml.directory.companies[input.user.company].groups
}

_in_a_known_group if {
	not config.groups_case_sensitive
	known := {lower(name) | some name in data.clearml.directory.companies[input.user.company].groups}
	some group in input.identity.groups
	lower(group) in known
}
