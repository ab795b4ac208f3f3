package contractors_never_admin_test

import data.clearml.sso

directory := {
	"companies": {"c1": {"name": "Company One", "groups": []}},
	"whitelist": {"emails": {"boss@example.com": {"company": "c1", "is_admin": true}}, "domains": {}},
}

login(address, groups, user) := {"identity": {"email": address, "groups": groups, "claims": {}}, "user": user}

admin := {"id": "u1", "company": "c1", "role": "admin", "groups": []}

test_contractor_in_an_admin_group_is_a_user if {
	d := sso.decision with input as login("c@example.com", ["ClearML-Admins", "Contractors"], admin)
		with data.clearml.directory as directory
		with data.clearml.config.groups_enabled as true
		with data.clearml.config.admin_groups as {"ClearML-Admins"}

	d.role == "user"
	d.reasons[1] == "role:contractor"
}

test_contractor_whitelisted_as_admin_signs_up_as_user if {
	d := sso.decision with input as login("boss@example.com", ["Contractors"], null)
		with data.clearml.directory as directory
		with data.clearml.config.default_company as ""

	d.allow
	d.role == "user"
}

test_admin_without_the_group_is_unchanged if {
	d := sso.decision with input as login("a@example.com", ["Staff"], admin)
		with data.clearml.directory as directory
		with data.clearml.config.groups_enabled as false

	d.role == null
}
