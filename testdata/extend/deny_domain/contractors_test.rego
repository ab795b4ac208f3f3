package deny_domain_test

import data.clearml.sso

directory := {
	"companies": {"c1": {"name": "Company One", "groups": []}},
	"whitelist": {"emails": {}, "domains": {"contractor.example": {"company": "c1", "is_admin": false}}},
}

login(address, user) := {"identity": {"email": address, "groups": [], "claims": {}}, "user": user}

test_sign_up_from_the_domain_is_denied_with_the_message if {
	d := sso.decision with input as login("pat@Contractor.Example", null)
		with data.clearml.directory as directory
		with data.clearml.config.default_company as "c1"

	not d.allow
	d.reasons == ["deny:contractor_domain"]
	startswith(d.message, "Sign-ups from contractor.example are closed.")
}

test_whitelisted_domain_is_denied_too if {
	d := sso.decision with input as login("pat@contractor.example", null)
		with data.clearml.directory as directory
		with data.clearml.config.default_company as ""

	d.reasons == ["deny:contractor_domain"]
}

test_existing_user_from_the_domain_signs_in if {
	d := sso.decision with input as login("pat@contractor.example", {"id": "u1", "company": "c1", "role": "user", "groups": []})
		with data.clearml.directory as directory

	d.allow
	d.message == ""
}

test_other_domains_sign_up if {
	d := sso.decision with input as login("pat@example.com", null)
		with data.clearml.directory as directory
		with data.clearml.config.default_company as "c1"

	d.allow
}
