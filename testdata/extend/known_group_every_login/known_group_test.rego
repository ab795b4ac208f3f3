package known_group_every_login_test

import data.clearml.sso

directory := {
	"companies": {"c1": {"name": "Company One", "groups": ["ML Team"]}},
	"whitelist": {"emails": {}, "domains": {}},
}

member(groups) := {
	"identity": {"email": "a@example.com", "groups": groups, "claims": {}},
	"user": {"id": "u1", "company": "c1", "role": "user", "groups": []},
}

test_existing_user_outside_clearml_groups_is_denied if {
	d := sso.decision with input as member(["Other"])
		with data.clearml.directory as directory
		with data.clearml.config.prohibit_user_signup_if_not_in_group as true

	not d.allow
	d.reasons == ["deny:no_known_group"]
	d.message != ""
}

test_existing_user_in_a_clearml_group_signs_in if {
	d := sso.decision with input as member(["ML Team"])
		with data.clearml.directory as directory
		with data.clearml.config.prohibit_user_signup_if_not_in_group as true
		with data.clearml.config.groups_case_sensitive as true

	d.allow
}

test_case_rule_follows_the_configuration if {
	d := sso.decision with input as member(["ml team"])
		with data.clearml.directory as directory
		with data.clearml.config.prohibit_user_signup_if_not_in_group as true
		with data.clearml.config.groups_case_sensitive as false

	d.allow
}

test_off_without_the_setting if {
	d := sso.decision with input as member(["Other"])
		with data.clearml.directory as directory
		with data.clearml.config.prohibit_user_signup_if_not_in_group as false

	d.allow
}

test_sign_ups_keep_the_builtin_denial if {
	login := json.patch(member(["Other"]), [{"op": "replace", "path": "/user", "value": null}])
	d := sso.decision with input as login
		with data.clearml.directory as directory
		with data.clearml.config.prohibit_user_signup_if_not_in_group as true
		with data.clearml.config.default_company as "c1"

	d.reasons == ["deny:not_in_group"]
}
