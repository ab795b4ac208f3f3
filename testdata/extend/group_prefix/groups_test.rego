package group_prefix_test

import data.clearml.sso

directory := {
	"companies": {"c1": {"name": "Company One", "groups": ["ML Team", "Data", "clearml-Data"]}},
	"whitelist": {"emails": {}, "domains": {}},
}

member(groups) := {
	"identity": {"email": "a@example.com", "groups": groups, "claims": {}},
	"user": {"id": "u1", "company": "c1", "role": "user", "groups": []},
}

test_prefixed_groups_name_clearml_groups if {
	d := sso.decision with input as member(["clearml-ML Team", "clearml-Missing", "Other"])
		with data.clearml.directory as directory
		with data.clearml.config.groups_enabled as false

	d.sync_groups
	d.groups == ["ML Team"]
	d.reasons[2] == "groups:extension"
}

test_with_groups_enabled_both_rules_apply if {
	d := sso.decision with input as member(["clearml-ML Team", "clearml-Data"])
		with data.clearml.directory as directory
		with data.clearml.config.groups_enabled as true
		with data.clearml.config.groups_case_sensitive as true

	d.groups == ["Data", "ML Team", "clearml-Data"]
	d.reasons[2] == "groups:synced"
}

test_the_prefix_is_case_sensitive if {
	d := sso.decision with input as member(["ClearML-ML Team"])
		with data.clearml.directory as directory
		with data.clearml.config.groups_enabled as false

	d.groups == []
}
