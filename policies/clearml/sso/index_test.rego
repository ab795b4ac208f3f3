# The lookup indexes the host writes next to the directory. These tests give
# the policy an index only (no companies or whitelist), so they pass only if
# the indexed lookups are used, and they give the same answers as the
# fallback the other tests exercise.
package clearml.sso_test

import data.clearml.sso

indexed := {"index": {
	"version": 1,
	"companies": {
		"c1": {
			"exact": {"ML Team": "ML Team", "Data": "Data"},
			"folded": {"ml team": ["ML Team"], "data": ["Data"]},
		},
		"c2": {
			"exact": {"ml team": "ml team", "ML TEAM": "ML TEAM", "Ml Team": "Ml Team", "Ops": "Ops"},
			"folded": {"ml team": ["ML TEAM", "Ml Team", "ml team"], "ops": ["Ops"]},
		},
	},
	"whitelist": {
		"emails": {
			"alice@example.com": {"company": "c1", "is_admin": false},
			"boss@example.com": {"company": "c1", "is_admin": true},
			"ghost@example.com": {"company": "missing", "is_admin": false},
		},
		"domains": {"corp.example": {"company": "c2", "is_admin": false}},
	},
}}

test_indexed_whitelist_email_in_any_case if {
	d := sso.decision with input as new_user("ALICE@example.com", [])
		with data.clearml.directory as indexed
		with sso.extend as {}
		with data.clearml.config as settings({})

	d.allow
	d.company == "c1"
	d.reasons == ["signup:whitelist_email", "role:new_user", "groups:disabled"]
}

test_indexed_whitelist_admin_email if {
	d := sso.decision with input as new_user("boss@example.com", [])
		with data.clearml.directory as indexed
		with sso.extend as {}
		with data.clearml.config as settings({})

	d.role == "admin"
}

test_indexed_whitelist_domain if {
	d := sso.decision with input as new_user("x@Corp.Example", [])
		with data.clearml.directory as indexed
		with sso.extend as {}
		with data.clearml.config as settings({})

	d.company == "c2"
	d.reasons[0] == "signup:whitelist_domain"
}

test_indexed_unknown_company if {
	d := sso.decision with input as new_user("ghost@example.com", [])
		with data.clearml.directory as indexed
		with sso.extend as {}
		with data.clearml.config as settings({})

	d == denied(["deny:unknown_company"])
}

test_indexed_not_whitelisted if {
	d := sso.decision with input as new_user("alice@elsewhere.example", [])
		with data.clearml.directory as indexed
		with sso.extend as {}
		with data.clearml.config as settings({})

	d == denied(["deny:not_whitelisted"])
}

test_indexed_groups_case_sensitive if {
	d := sso.decision with input as existing_user("user", ["ML Team", "data", "Other"])
		with data.clearml.directory as indexed
		with sso.extend as {}
		with data.clearml.config as settings({"groups_enabled": true})

	d.groups == ["ML Team"]
}

test_indexed_groups_case_insensitive if {
	d := sso.decision with input as new_user("x@corp.example", ["ML team", "OPS", "Other"])
		with data.clearml.directory as indexed
		with sso.extend as {}
		with data.clearml.config as settings({"groups_enabled": true, "groups_case_sensitive": false})

	d.groups == ["ML TEAM", "Ml Team", "Ops", "ml team"]
}

test_indexed_prohibit if {
	denied_login := sso.decision with input as new_user("x@nowhere.example", ["Other"])
		with data.clearml.directory as indexed
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"prohibit_user_signup_if_not_in_group": true,
		})

	denied_login == denied(["deny:not_in_group"])

	allowed_login := sso.decision with input as new_user("x@nowhere.example", ["Data"])
		with data.clearml.directory as indexed
		with sso.extend as {}
		with data.clearml.config as settings({
			"default_company": "c1",
			"prohibit_user_signup_if_not_in_group": true,
		})

	allowed_login.allow
}

test_indexed_default_company_missing if {
	d := sso.decision with input as new_user("x@nowhere.example", [])
		with data.clearml.directory as indexed
		with sso.extend as {}
		with data.clearml.config as settings({"default_company": "gone"})

	d == denied(["deny:unknown_company"])
}
