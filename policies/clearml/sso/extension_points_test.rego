# The extension points: every rule of package clearml.sso.extend, each
# interaction DESIGN.md lists, and the precedence of denials.
package clearml.sso_test

import data.clearml.sso

# decide is the decision for login with the configuration overrides and the
# extension rules ext (an object from rule name to value). It is a helper
# of the tests, so .regal/config.yaml lets it use "with" and data.
decide(login, overrides, ext) := d if {
	d := sso.decision with input as login
		with data.clearml.directory as directory
		with data.clearml.config as settings(overrides)
		with sso.extend as ext
}

denial(code, message) := {"code": code, "message": message}

denied_with(code, message) := object.union(denied([code]), {"message": message})

outsider := new_user("someone@outside.example", [])

# deny

test_deny_denies_a_new_user_with_its_message if {
	d := decide(new_user("alice@example.com", []), {}, {"deny": {denial("deny:blocked", "Ask IT.")}})
	d == denied_with("deny:blocked", "Ask IT.")
}

test_deny_denies_an_existing_user if {
	d := decide(existing_user("admin", ["ML Team"]), {}, {"deny": {denial("deny:blocked", "Ask IT.")}})
	d == denied_with("deny:blocked", "Ask IT.")
}

test_deny_reason_is_the_smallest_code if {
	entries := {denial("deny:zeta", "Z."), denial("deny:alpha", "B."), denial("deny:alpha", "A.")}
	d := decide(new_user("alice@example.com", []), {}, {"deny": entries})
	d == denied_with("deny:alpha", "A.")
}

test_empty_deny_changes_nothing if {
	d := decide(new_user("alice@example.com", []), {}, {"deny": set()})
	d.allow
	d.message == ""
}

test_builtin_denials_come_before_deny if {
	deny := {"deny": {denial("deny:blocked", "Ask IT.")}}
	decide(outsider, {}, deny) == denied(["deny:not_whitelisted"])
	decide(new_user("\u212Aate@example.com", []), {}, deny) == denied(["deny:invalid_email"])
	decide(new_unverified("alice@example.com", []), {}, deny) == denied(["deny:email_not_verified"])
	decide(new_user("ghost@example.com", []), {}, deny) == denied(["deny:unknown_company"])
	decide(json.remove(existing_user("user", []), ["user/company"]), {}, deny) == denied(["deny:invalid_user"])

	prohibit := {"default_company": "c1", "prohibit_user_signup_if_not_in_group": true}
	decide(outsider, prohibit, deny) == denied(["deny:not_in_group"])
}

# deny_signup

test_deny_signup_denies_a_sign_up if {
	ext := {"deny_signup": {denial("deny:contractor", "No sign-ups from contractors.")}}
	d := decide(outsider, {"default_company": "c1"}, ext)
	d == denied_with("deny:contractor", "No sign-ups from contractors.")
}

test_deny_signup_leaves_existing_users if {
	ext := {"deny_signup": {denial("deny:contractor", "No sign-ups from contractors.")}}
	d := decide(existing_user("user", []), {}, ext)
	d.allow
	d.reasons[0] == "login:existing_user"
}

test_deny_comes_before_deny_signup if {
	ext := {
		"deny": {denial("deny:zz_everyone", "Closed.")},
		"deny_signup": {denial("deny:aa_signups", "No sign-ups.")},
	}
	d := decide(outsider, {"default_company": "c1"}, ext)
	d == denied_with("deny:zz_everyone", "Closed.")
}

test_builtin_denials_come_before_deny_signup if {
	ext := {"deny_signup": {denial("deny:contractor", "No.")}}
	decide(outsider, {}, ext) == denied(["deny:not_whitelisted"])
	decide(outsider, {"default_company": "gone"}, ext) == denied(["deny:unknown_company"])
}

# signup

test_signup_lifts_not_whitelisted_into_the_company if {
	d := decide(outsider, {}, {"signup": {"signup:partner", "signup:employee"}, "company": "c2"})
	d.allow
	d.signup
	d.company == "c2"
	d.role == "user"
	d.reasons == ["signup:employee", "role:new_user", "groups:disabled"]
}

test_signup_without_a_company_is_an_unknown_company if {
	d := decide(outsider, {}, {"signup": {"signup:partner"}})
	d == denied(["deny:unknown_company"])
}

test_signup_into_a_missing_company_is_an_unknown_company if {
	d := decide(outsider, {}, {"signup": {"signup:partner"}, "company": "gone"})
	d == denied(["deny:unknown_company"])
}

test_signup_is_not_past_an_unverified_email if {
	d := decide(new_unverified("someone@outside.example", []), {}, {"signup": {"signup:partner"}, "company": "c1"})
	d == denied(["deny:email_not_verified"])

	required := decide(outsider, {"require_verified_email": true}, {"signup": {"signup:partner"}, "company": "c1"})
	required == denied(["deny:email_not_verified"])
}

test_signup_is_not_past_an_invalid_email if {
	d := decide(new_user("attacker@evil.com@example.com", []), {}, {"signup": {"signup:partner"}, "company": "c1"})
	d == denied(["deny:invalid_email"])
}

test_signup_is_not_past_prohibit if {
	overrides := {"prohibit_user_signup_if_not_in_group": true}
	ext := {"signup": {"signup:partner"}, "company": "c1"}
	decide(outsider, overrides, ext) == denied(["deny:not_in_group"])

	in_group := decide(new_user("someone@outside.example", ["Data"]), overrides, ext)
	in_group.allow
	in_group.reasons[0] == "signup:partner"
}

test_signup_is_not_past_deny_or_deny_signup if {
	signup := {"signup": {"signup:partner"}, "company": "c1"}
	by_deny := decide(outsider, {}, object.union(signup, {"deny": {denial("deny:blocked", "No.")}}))
	by_deny == denied_with("deny:blocked", "No.")

	by_deny_signup := decide(outsider, {}, object.union(signup, {"deny_signup": {denial("deny:blocked", "No.")}}))
	by_deny_signup == denied_with("deny:blocked", "No.")
}

test_signup_does_not_replace_the_whitelist_or_the_default_company if {
	ext := {"signup": {"signup:partner"}}
	whitelisted := decide(new_user("alice@example.com", []), {}, ext)
	whitelisted.reasons[0] == "signup:whitelist_email"

	default_company := decide(outsider, {"default_company": "c1"}, ext)
	default_company.reasons[0] == "signup:default_company"
}

test_signup_leaves_existing_users if {
	d := decide(existing_user("admin", []), {}, {"signup": {"signup:partner"}, "company": "c2"})
	d.company == "c1"
	d.reasons == ["login:existing_user", "role:unchanged", "groups:disabled"]
}

# company

test_company_routes_a_default_company_sign_up if {
	d := decide(outsider, {"default_company": "c1"}, {"company": "c2"})
	d.company == "c2"
	d.reasons[0] == "signup:default_company"
}

test_company_routes_a_whitelist_sign_up if {
	d := decide(new_user("alice@example.com", []), {}, {"company": "c2"})
	d.company == "c2"
	d.reasons[0] == "signup:whitelist_email"
}

test_company_elsewhere_drops_the_whitelist_admin if {
	elsewhere := decide(new_user("boss@example.com", []), {}, {"company": "c2"})
	elsewhere.role == "user"
	elsewhere.reasons[1] == "role:new_user"

	same := decide(new_user("boss@example.com", []), {}, {"company": "c1"})
	same.role == "admin"
	same.reasons[1] == "role:whitelist_admin"
}

test_missing_company_is_an_unknown_company if {
	d := decide(outsider, {"default_company": "c1"}, {"company": "gone"})
	d == denied(["deny:unknown_company"])
}

test_company_leaves_existing_users if {
	d := decide(existing_user("user", []), {}, {"company": "c2"})
	d.company == "c1"
}

test_company_decides_the_groups_and_prohibit if {
	overrides := {"default_company": "c1", "groups_enabled": true, "prohibit_user_signup_if_not_in_group": true}
	d := decide(new_user("someone@outside.example", ["Ops", "Data"]), overrides, {"company": "c2"})
	d.company == "c2"
	d.groups == ["Ops"]

	denied_login := decide(new_user("someone@outside.example", ["Data"]), overrides, {"company": "c2"})
	denied_login == denied(["deny:not_in_group"])
}

# admin

test_admin_makes_a_new_user_admin if {
	d := decide(outsider, {"default_company": "c1"}, {"admin": {"role:team_lead", "role:lead"}})
	d.role == "admin"
	d.reasons == ["signup:default_company", "role:lead", "groups:disabled"]
}

test_admin_promotes_an_existing_user_without_role_sync if {
	d := decide(existing_user("user", []), {}, {"admin": {"role:team_lead"}})
	d.role == "admin"
	d.reasons[1] == "role:team_lead"
}

test_admin_wins_over_role_sync if {
	overrides := {"groups_enabled": true, "admin_groups": {"ClearML-Admins"}}
	d := decide(existing_user("user", ["Team Leads"]), overrides, {"admin": {"role:team_lead"}})
	d.role == "admin"
	d.reasons == ["login:existing_user", "role:team_lead", "groups:synced"]
}

test_empty_admin_changes_nothing if {
	d := decide(existing_user("user", []), {}, {"admin": set()})
	d.role == null
	d.reasons[1] == "role:unchanged"
}

# not_admin

test_not_admin_makes_the_role_user if {
	d := decide(existing_user("admin", []), {}, {"not_admin": {"role:contractor"}})
	d.role == "user"
	d.reasons[1] == "role:contractor"
}

test_not_admin_wins_over_admin if {
	ext := {"admin": {"role:team_lead"}, "not_admin": {"role:contractor"}}
	d := decide(existing_user("admin", []), {}, ext)
	d.role == "user"
	d.reasons[1] == "role:contractor"
}

test_not_admin_wins_over_admin_groups if {
	overrides := {"groups_enabled": true, "admin_groups": {"ClearML-Admins"}}
	d := decide(existing_user("admin", ["ClearML-Admins"]), overrides, {"not_admin": {"role:contractor"}})
	d.role == "user"
	d.reasons[1] == "role:contractor"
}

test_not_admin_wins_over_the_whitelist_admin if {
	d := decide(new_user("boss@example.com", []), {}, {"not_admin": {"role:contractor"}})
	d.role == "user"
	d.reasons[1] == "role:contractor"
}

# groups

test_groups_add_existing_clearml_groups if {
	overrides := {"groups_enabled": true}
	d := decide(existing_user("user", ["ML Team"]), overrides, {"groups": {"Data", "Missing", "data"}})
	d.sync_groups
	d.groups == ["Data", "ML Team"]
	d.reasons[2] == "groups:synced"
}

test_groups_sync_with_groups_disabled if {
	d := decide(existing_user("user", ["ML Team"]), {}, {"groups": {"Data", "Missing"}})
	d.sync_groups
	d.groups == ["Data"]
	d.reasons == ["login:existing_user", "role:unchanged", "groups:extension"]
}

test_empty_groups_sync_to_none if {
	d := decide(existing_user("user", []), {}, {"groups": set()})
	d.sync_groups
	d.groups == []
	d.reasons[2] == "groups:extension"
}

test_groups_do_not_count_for_prohibit if {
	overrides := {"default_company": "c1", "prohibit_user_signup_if_not_in_group": true}
	d := decide(outsider, overrides, {"groups": {"Data"}})
	d == denied(["deny:not_in_group"])
}

test_groups_are_not_on_a_deny if {
	d := decide(outsider, {}, {"groups": {"Data"}})
	d == denied(["deny:not_whitelisted"])
}

# Everything at once: the precedence of the whole table.
test_all_rules_together if {
	ext := {
		"signup": {"signup:partner"},
		"company": "c2",
		"admin": {"role:lead"},
		"groups": {"Ops"},
	}
	d := decide(new_user("someone@outside.example", []), {}, ext)
	d == {
		"allow": true,
		"signup": true,
		"company": "c2",
		"role": "admin",
		"sync_groups": true,
		"groups": ["Ops"],
		"reasons": ["signup:partner", "role:lead", "groups:extension"],
		"message": "",
	}
}
