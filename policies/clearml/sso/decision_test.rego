# Sign-up and login without group sync: no default company (whitelist only),
# and default_company alone.
package clearml.sso_test

import data.clearml.sso

test_new_user_not_whitelisted_is_denied if {
	d := sso.decision with input as new_user("nobody@nowhere.example", [])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({})

	d == denied(["deny:not_whitelisted"])
}

test_new_user_without_email_is_denied if {
	login := json.remove(new_user("", []), ["identity/email"])
	d := sso.decision with input as login
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({})

	d == denied(["deny:not_whitelisted"])
}

test_whitelisted_email_signs_up_as_user if {
	d := sso.decision with input as new_user("Alice@Example.com", [])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({})

	d == {
		"allow": true,
		"signup": true,
		"company": "c1",
		"role": "user",
		"sync_groups": false,
		"groups": [],
		"reasons": ["signup:whitelist_email", "role:new_user", "groups:disabled"],
		"message": "",
	}
}

test_whitelisted_email_matches_in_any_letter_case if {
	every email in ["alice@example.com", "ALICE@EXAMPLE.COM", "aLiCe@example.COM"] {
		d := sso.decision with input as new_user(email, [])
			with data.clearml.directory as directory
			with sso.extend as {}
			with data.clearml.config as settings({})
		d.allow
		d.company == "c1"
		d.reasons[0] == "signup:whitelist_email"
	}
}

test_whitelisted_admin_email_signs_up_as_admin if {
	d := sso.decision with input as new_user("Boss@example.com", [])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({})

	d.allow
	d.signup
	d.company == "c1"
	d.role == "admin"
	d.reasons == ["signup:whitelist_email", "role:whitelist_admin", "groups:disabled"]
}

test_whitelisted_domain_signs_up if {
	d := sso.decision with input as new_user("Carol@CORP.example", [])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({})

	d.allow
	d.signup
	d.company == "c1"
	d.role == "user"
	d.reasons == ["signup:whitelist_domain", "role:new_user", "groups:disabled"]
}

test_whitelisted_admin_domain_signs_up_as_admin if {
	d := sso.decision with input as new_user("dave@admins.example", [])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({})

	d.company == "c2"
	d.role == "admin"
	d.reasons == ["signup:whitelist_domain", "role:whitelist_admin", "groups:disabled"]
}

test_email_entry_wins_over_domain_entry if {
	d := sso.decision with input as new_user("lead@corp.example", [])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({})

	d.company == "c2"
	d.reasons[0] == "signup:whitelist_email"
}

test_unverified_email_never_signs_up_through_the_whitelist if {
	every email in ["alice@example.com", "boss@example.com", "carol@corp.example"] {
		d := sso.decision with input as new_unverified(email, [])
			with data.clearml.directory as directory
			with sso.extend as {}
			with data.clearml.config as settings({})
		d == denied(["deny:email_not_verified"])
	}
}

test_explicitly_verified_email_signs_up if {
	login := json.patch(
		new_user("alice@example.com", []),
		[{"op": "add", "path": "/identity/email_verified", "value": true}],
	)
	d := sso.decision with input as login
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({})

	d.allow
	d.signup
}

test_unverified_email_not_whitelisted_is_denied_as_not_whitelisted if {
	d := sso.decision with input as new_unverified("nobody@nowhere.example", [])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({})

	d == denied(["deny:not_whitelisted"])
}

test_whitelist_entry_for_missing_company_is_denied if {
	d := sso.decision with input as new_user("ghost@example.com", [])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({})

	d == denied(["deny:unknown_company"])
}

test_new_user_without_directory_is_denied if {
	d := sso.decision with input as new_user("alice@example.com", [])
		with data.clearml.directory as {}
		with sso.extend as {}
		with data.clearml.config as settings({})

	d == denied(["deny:not_whitelisted"])
}

test_existing_user_logs_in_with_role_unchanged if {
	d := sso.decision with input as existing_user("admin", ["ML Team"])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({})

	d == {
		"allow": true,
		"signup": false,
		"company": "c1",
		"role": null,
		"sync_groups": false,
		"groups": [],
		"reasons": ["login:existing_user", "role:unchanged", "groups:disabled"],
		"message": "",
	}
}

test_existing_user_logs_in_with_unverified_email if {
	login := json.patch(
		existing_user("user", []),
		[{"op": "add", "path": "/identity/email_verified", "value": false}],
	)
	d := sso.decision with input as login
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({})

	d.allow
	d.reasons[0] == "login:existing_user"
}

test_existing_user_without_company_is_denied if {
	login := json.remove(existing_user("user", []), ["user/company"])
	d := sso.decision with input as login
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({})

	d == denied(["deny:invalid_user"])
}

test_default_company_signs_up_anyone if {
	d := sso.decision with input as new_user("nobody@nowhere.example", [])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({"default_company": "c1"})

	d == {
		"allow": true,
		"signup": true,
		"company": "c1",
		"role": "user",
		"sync_groups": false,
		"groups": [],
		"reasons": ["signup:default_company", "role:new_user", "groups:disabled"],
		"message": "",
	}
}

test_default_company_signs_up_unverified_email if {
	d := sso.decision with input as new_unverified("nobody@nowhere.example", [])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({"default_company": "c1"})

	d.allow
	d.company == "c1"
	d.reasons[0] == "signup:default_company"
}

test_default_company_does_not_consult_the_whitelist if {
	every email in ["boss@example.com", "lead@corp.example", "dave@admins.example"] {
		d := sso.decision with input as new_user(email, [])
			with data.clearml.directory as directory
			with sso.extend as {}
			with data.clearml.config as settings({"default_company": "c1"})
		d.company == "c1"
		d.role == "user"
		d.reasons == ["signup:default_company", "role:new_user", "groups:disabled"]
	}
}

test_default_company_missing_from_directory_is_denied if {
	d := sso.decision with input as new_user("alice@example.com", [])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({"default_company": "gone"})

	d == denied(["deny:unknown_company"])
}

test_default_company_keeps_existing_users_in_their_company if {
	d := sso.decision with input as existing_user("user", [])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({"default_company": "c2"})

	d.company == "c1"
	d.signup == false
	d.role == null
}
