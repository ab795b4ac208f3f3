package team_leads_test

import data.clearml.sso

directory := {
	"companies": {"c1": {"name": "Company One", "groups": ["ML Team"]}},
	"whitelist": {"emails": {}, "domains": {"example.com": {"company": "c1", "is_admin": false}}},
}

login(groups, user) := {
	"identity": {"email": "lee@example.com", "email_verified": true, "groups": groups, "claims": {}},
	"user": user,
}

test_team_lead_signs_up_as_admin if {
	d := sso.decision with input as login(["Team Leads"], null)
		with data.clearml.directory as directory
		with data.clearml.config.default_company as ""

	d.allow
	d.role == "admin"
	d.reasons[1] == "role:team_lead"
}

test_existing_user_who_becomes_a_team_lead_is_promoted if {
	d := sso.decision with input as login(["Team Leads"], {"id": "u1", "company": "c1", "role": "user", "groups": []})
		with data.clearml.directory as directory

	d.role == "admin"
}

test_others_keep_the_default_role if {
	d := sso.decision with input as login(["ML Team"], null)
		with data.clearml.directory as directory
		with data.clearml.config.default_company as ""
		with data.clearml.config.groups_enabled as false

	d.allow
	d.role == "user"
}
