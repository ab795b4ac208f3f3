package route_by_domain_test

import data.clearml.sso

directory := {
	"companies": {
		"research": {"name": "Research", "groups": []},
		"operations": {"name": "Operations", "groups": []},
		"c1": {"name": "Company One", "groups": []},
	},
	"whitelist": {"emails": {"alice@example.com": {"company": "c1", "is_admin": false}}, "domains": {}},
}

new_user(address) := {"identity": {"email": address, "groups": [], "claims": {}}, "user": null}

test_each_domain_goes_to_its_company if {
	every address, company in {"kim@Research.Example": "research", "sam@ops.example": "operations"} {
		d := sso.decision with input as new_user(address)
			with data.clearml.directory as directory
			with data.clearml.config.default_company as ""
		d.allow
		d.company == company
		d.reasons[0] == "signup:routed_domain"
	}
}

test_routing_applies_to_default_company_sign_ups if {
	d := sso.decision with input as new_user("kim@research.example")
		with data.clearml.directory as directory
		with data.clearml.config.default_company as "c1"

	d.company == "research"
	d.reasons[0] == "signup:default_company"
}

test_other_domains_are_unchanged if {
	whitelisted := sso.decision with input as new_user("alice@example.com")
		with data.clearml.directory as directory
		with data.clearml.config.default_company as ""

	whitelisted.company == "c1"

	outsider := sso.decision with input as new_user("bob@example.com")
		with data.clearml.directory as directory
		with data.clearml.config.default_company as ""

	outsider.reasons == ["deny:not_whitelisted"]
}

test_unverified_email_is_not_routed_in if {
	login := json.patch(new_user("kim@research.example"), [{"op": "add", "path": "/identity/email_verified", "value": false}])
	d := sso.decision with input as login
		with data.clearml.directory as directory
		with data.clearml.config.default_company as ""

	d.reasons == ["deny:email_not_verified"]
}
