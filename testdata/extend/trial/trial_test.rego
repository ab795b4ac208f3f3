package trial_test

import data.clearml.sso

directory := {
	"companies": {"c1": {"name": "Company One", "groups": []}},
	"whitelist": {"emails": {}, "domains": {}},
}

new_user(address, groups) := {"identity": {"email": address, "groups": groups, "claims": {}}, "user": null}

test_team_lead_is_admin if {
	d := sso.decision with input as new_user("lee@example.com", ["Team Leads"])
		with data.clearml.directory as directory
		with data.clearml.config.default_company as "c1"

	d.role == "admin"
	d.reasons[1] == "role:team_lead"
}

test_contractor_sign_up_is_denied_with_the_message if {
	d := sso.decision with input as new_user("pat@contractor.example", ["Team Leads"])
		with data.clearml.directory as directory
		with data.clearml.config.default_company as "c1"

	d.reasons == ["deny:contractor"]
	d.message == "Sign-ups from contractor.example are closed. Ask your ClearML admin."
}
