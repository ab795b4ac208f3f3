# Group sync, role sync through admin groups, the case rule and the sign-up
# restriction, each alone and in combination.
package clearml.sso_test

import data.clearml.sso

admins := {"ClearML-Admins"}

test_groups_enabled_lists_matching_clearml_groups if {
	d := sso.decision with input as new_user("x@nowhere.example", ["ML Team", "Other"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"groups_enabled": true,
			"admin_groups": admins,
		})

	d == {
		"allow": true,
		"signup": true,
		"company": "c1",
		"role": "user",
		"sync_groups": true,
		"groups": ["ML Team"],
		"reasons": ["signup:default_company", "role:not_in_admin_group", "groups:synced"],
		"message": "",
	}
}

test_groups_are_case_sensitive_by_default if {
	d := sso.decision with input as new_user("x@nowhere.example", ["ml team", "DATA"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"groups_enabled": true,
			"admin_groups": admins,
		})

	d.allow
	d.sync_groups
	d.groups == []
	d.role == "user"
}

test_admin_group_gives_admin_without_existing_in_clearml if {
	d := sso.decision with input as new_user("x@nowhere.example", ["ClearML-Admins"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"groups_enabled": true,
			"admin_groups": admins,
		})

	d.allow
	d.role == "admin"
	d.groups == []
	d.reasons == ["signup:default_company", "role:admin_group", "groups:synced"]
}

test_admin_group_is_case_sensitive_by_default if {
	d := sso.decision with input as new_user("x@nowhere.example", ["clearml-admins"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"groups_enabled": true,
			"admin_groups": admins,
		})

	d.role == "user"
}

test_existing_admin_outside_admin_groups_is_demoted if {
	d := sso.decision with input as existing_user("admin", ["ML Team"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"groups_enabled": true,
			"admin_groups": admins,
		})

	d == {
		"allow": true,
		"signup": false,
		"company": "c1",
		"role": "user",
		"sync_groups": true,
		"groups": ["ML Team"],
		"reasons": ["login:existing_user", "role:not_in_admin_group", "groups:synced"],
		"message": "",
	}
}

test_existing_user_in_admin_group_is_promoted if {
	d := sso.decision with input as existing_user("user", ["ClearML-Admins", "Data"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({"groups_enabled": true, "admin_groups": admins})

	d.role == "admin"
	d.groups == ["Data"]
	d.reasons == ["login:existing_user", "role:admin_group", "groups:synced"]
}

test_case_insensitive_groups_and_admins if {
	d := sso.decision with input as new_user("x@nowhere.example", ["ml team", "clearml-admins"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"groups_enabled": true,
			"admin_groups": admins,
			"groups_case_sensitive": false,
		})

	d.allow
	d.groups == ["ML Team"]
	d.role == "admin"
	d.reasons == ["signup:default_company", "role:admin_group", "groups:synced"]
}

test_case_insensitive_lists_every_group_that_differs_only_in_case if {
	d := sso.decision with input as new_user("x@nowhere.example", ["ML team"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c2",
			"groups_enabled": true,
			"groups_case_sensitive": false,
		})

	d.groups == ["ML TEAM", "Ml Team", "ml team"]
}

test_case_sensitive_picks_only_the_exact_group if {
	d := sso.decision with input as new_user("x@nowhere.example", ["Ml Team"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({"default_company": "c2", "groups_enabled": true})

	d.groups == ["Ml Team"]
}

test_groups_claim_as_a_single_string if {
	d := sso.decision with input as new_user("x@nowhere.example", "Data")
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({"default_company": "c1", "groups_enabled": true})

	d.groups == ["Data"]
}

test_groups_claim_absent_means_no_groups if {
	login := json.remove(new_user("x@nowhere.example", []), ["identity/groups"])
	d := sso.decision with input as login
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"groups_enabled": true,
			"admin_groups": admins,
		})

	d.allow
	d.groups == []
	d.role == "user"
}

test_groups_disabled_syncs_nothing if {
	d := sso.decision with input as existing_user("user", ["ML Team", "ClearML-Admins"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({"admin_groups": admins})

	d.sync_groups == false
	d.groups == []
	d.role == null
	d.reasons == ["login:existing_user", "role:unchanged", "groups:disabled"]
}

test_groups_enabled_without_admin_groups_leaves_roles_alone if {
	existing := sso.decision with input as existing_user("admin", ["ML Team"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({"groups_enabled": true})

	existing.role == null
	existing.groups == ["ML Team"]
	existing.reasons == ["login:existing_user", "role:unchanged", "groups:synced"]

	whitelisted := sso.decision with input as new_user("boss@example.com", ["Data"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({"groups_enabled": true})

	whitelisted.role == "admin"
	whitelisted.groups == ["Data"]
	whitelisted.reasons == ["signup:whitelist_email", "role:whitelist_admin", "groups:synced"]
}

test_role_sync_overrides_whitelist_admin if {
	d := sso.decision with input as new_user("boss@example.com", ["Data"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({"groups_enabled": true, "admin_groups": admins})

	d.role == "user"
	d.reasons == ["signup:whitelist_email", "role:not_in_admin_group", "groups:synced"]
}

test_prohibit_denies_sign_up_outside_clearml_groups if {
	d := sso.decision with input as new_user("x@nowhere.example", ["Other"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"groups_enabled": true,
			"admin_groups": admins,
			"prohibit_user_signup_if_not_in_group": true,
		})

	d == denied(["deny:not_in_group"])
}

test_prohibit_allows_sign_up_in_a_clearml_group if {
	d := sso.decision with input as new_user("x@nowhere.example", ["ML Team"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"groups_enabled": true,
			"admin_groups": admins,
			"prohibit_user_signup_if_not_in_group": true,
		})

	d.allow
	d.signup
	d.groups == ["ML Team"]
}

test_prohibit_does_not_apply_to_existing_users if {
	d := sso.decision with input as existing_user("user", ["Other"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"groups_enabled": true,
			"admin_groups": admins,
			"prohibit_user_signup_if_not_in_group": true,
		})

	d.allow
	d.signup == false
	d.groups == []
	d.role == "user"
}

test_prohibit_admin_group_alone_is_not_a_clearml_group if {
	d := sso.decision with input as new_user("x@nowhere.example", ["ClearML-Admins"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"groups_enabled": true,
			"admin_groups": admins,
			"prohibit_user_signup_if_not_in_group": true,
		})

	d == denied(["deny:not_in_group"])
}

test_prohibit_follows_the_case_rule if {
	sensitive := sso.decision with input as new_user("x@nowhere.example", ["ml team"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"groups_enabled": true,
			"prohibit_user_signup_if_not_in_group": true,
		})

	sensitive == denied(["deny:not_in_group"])

	insensitive := sso.decision with input as new_user("x@nowhere.example", ["ml team"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"groups_enabled": true,
			"groups_case_sensitive": false,
			"prohibit_user_signup_if_not_in_group": true,
		})

	insensitive.allow
	insensitive.groups == ["ML Team"]
}

test_prohibit_applies_with_groups_disabled if {
	outside := sso.decision with input as new_user("x@nowhere.example", ["Other"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"prohibit_user_signup_if_not_in_group": true,
		})

	outside == denied(["deny:not_in_group"])

	inside := sso.decision with input as new_user("x@nowhere.example", ["Data"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"prohibit_user_signup_if_not_in_group": true,
		})

	inside.allow
	inside.sync_groups == false
	inside.groups == []
}

test_prohibit_with_the_whitelist if {
	outside := sso.decision with input as new_user("alice@example.com", ["Other"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"groups_enabled": true,
			"prohibit_user_signup_if_not_in_group": true,
		})

	outside == denied(["deny:not_in_group"])

	inside := sso.decision with input as new_user("alice@example.com", ["Data"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"groups_enabled": true,
			"prohibit_user_signup_if_not_in_group": true,
		})

	inside.allow
	inside.company == "c1"
	inside.groups == ["Data"]

	unlisted := sso.decision with input as new_user("nobody@nowhere.example", ["Data"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({
			"groups_enabled": true,
			"prohibit_user_signup_if_not_in_group": true,
		})

	unlisted == denied(["deny:not_whitelisted"])
}

test_groups_of_another_company_do_not_match if {
	d := sso.decision with input as new_user("lead@corp.example", ["Data", "Ops"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({"groups_enabled": true})

	d.company == "c2"
	d.groups == ["Ops"]
}

test_every_decision_explains_itself if {
	logins := [
		new_user("nobody@nowhere.example", ["Other"]),
		new_user("alice@example.com", ["ML Team"]),
		new_unverified("alice@example.com", []),
		new_user("ghost@example.com", []),
		existing_user("admin", ["ClearML-Admins"]),
		existing_user("user", []),
	]
	every login in logins {
		every company in ["", "c1", "gone"] {
			every prohibit in [false, true] {
				d := sso.decision with input as login
					with data.clearml.directory as directory
					with sso.extend as {}
					with data.clearml.config as settings({
						"default_company": company,
						"groups_enabled": true,
						"admin_groups": admins,
						"prohibit_user_signup_if_not_in_group": prohibit,
					})
				count(d.reasons) > 0
				denials := [r | some r in d.reasons; startswith(r, "deny:")]
				undenied := count(denials) == 0
				d.allow == undenied
			}
		}
	}
}

test_group_values_that_are_not_strings_are_ignored if {
	every case_sensitive in [true, false] {
		d := sso.decision with input as new_user("x@nowhere.example", ["ML Team", 7, null, {"name": "Data"}])
			with data.clearml.directory as directory
			with sso.extend as {}
			with data.clearml.config as settings({
				"default_company": "c1",
				"groups_enabled": true,
				"groups_case_sensitive": case_sensitive,
			})
		d.groups == ["ML Team"]
	}
}
