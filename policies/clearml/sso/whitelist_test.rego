# The email rule in decisions: look-alike and malformed emails never match a
# whitelist entry, whether the policy computes the index (hand-written data)
# or reads the one the host builds; require_verified_email.
package clearml.sso_test

import data.clearml.sso

# lookalikes is a whitelist with admin entries that look-alike emails aim at.
lookalikes := {
	"companies": {"c1": {"name": "Company One", "groups": []}},
	"whitelist": {
		"emails": {
			"admin@example.com": {"company": "c1", "is_admin": true},
			"Kate@Example.com": {"company": "c1", "is_admin": true},
		},
		"domains": {"example.com": {"company": "c1", "is_admin": false}},
	},
}

# lookalikes_indexed is the same directory as the host writes it.
lookalikes_indexed := object.union(lookalikes, {"index": {
	"version": 1,
	"companies": {"c1": {"exact": {}, "folded": {}}},
	"whitelist": {
		"emails": {
			"admin@example.com": {"company": "c1", "is_admin": true},
			"kate@example.com": {"company": "c1", "is_admin": true},
		},
		"domains": {"example.com": {"company": "c1", "is_admin": false}},
	},
}})

invalid_emails := [
	"admİn@example.com",
	"ADMİN@EXAMPLE.COM",
	"\u212Aate@example.com",
	"\u212AATE@EXAMPLE.COM",
	"attacker@evil.com@example.com",
	"\"admin\"@example.com",
	"Admin <admin@example.com>",
	"admin@example.com ",
	"admin@example.com\n",
	"someone@bücher.example",
	"kate",
]

test_lookalike_and_malformed_emails_are_invalid if {
	every address in invalid_emails {
		every dir in [lookalikes, lookalikes_indexed] {
			d := sso.decision with input as new_user(address, [])
				with data.clearml.directory as dir
				with sso.extend as {}
				with data.clearml.config as settings({})
			d == denied(["deny:invalid_email"])
		}
	}
}

test_invalid_email_is_denied_even_when_unverified if {
	d := sso.decision with input as new_unverified("\u212Aate@example.com", [])
		with data.clearml.directory as lookalikes
		with sso.extend as {}
		with data.clearml.config as settings({})

	d == denied(["deny:invalid_email"])
}

test_ascii_letter_case_still_matches if {
	every dir in [lookalikes, lookalikes_indexed] {
		d := sso.decision with input as new_user("KATE@example.COM", [])
			with data.clearml.directory as dir
			with sso.extend as {}
			with data.clearml.config as settings({})
		d.allow
		d.role == "admin"
		d.reasons == ["signup:whitelist_email", "role:whitelist_admin", "groups:disabled"]
	}
}

test_domain_matches_a_valid_email_only if {
	d := sso.decision with input as new_user("bob@EXAMPLE.com", [])
		with data.clearml.directory as lookalikes
		with sso.extend as {}
		with data.clearml.config as settings({})

	d.reasons == ["signup:whitelist_domain", "role:new_user", "groups:disabled"]
}

test_missing_or_empty_email_is_not_whitelisted if {
	no_email := json.remove(new_user("", []), ["identity/email"])
	null_email := set_identity(new_user("", []), "email", null)
	every login in [new_user("", []), no_email, null_email] {
		d := sso.decision with input as login
			with data.clearml.directory as lookalikes
			with sso.extend as {}
			with data.clearml.config as settings({})
		d == denied(["deny:not_whitelisted"])
	}
}

test_an_email_that_is_not_a_string_is_invalid if {
	login := set_identity(new_user("", []), "email", ["admin@example.com"])
	d := sso.decision with input as login
		with data.clearml.directory as lookalikes
		with sso.extend as {}
		with data.clearml.config as settings({})

	d == denied(["deny:invalid_email"])
}

# Hand-written whitelist keys are held to the same rule: a look-alike key
# does not match the plain address it resembles.
test_lookalike_whitelist_keys_match_nothing if {
	dir := {
		"companies": {"c1": {"name": "Company One", "groups": []}},
		"whitelist": {
			"emails": {"\u212Aate@example.com": {"company": "c1", "is_admin": true}},
			"domains": {
				"exam\u212Ale.com": {"company": "c1", "is_admin": true},
				"@example.com": {"company": "c1", "is_admin": true},
			},
		},
	}
	every address in ["kate@example.com", "x@examkle.com", "x@example.com"] {
		d := sso.decision with input as new_user(address, [])
			with data.clearml.directory as dir
			with sso.extend as {}
			with data.clearml.config as settings({})
		d == denied(["deny:not_whitelisted"])
	}
}

test_a_label_domains_match if {
	dir := {
		"companies": {"c1": {"name": "Company One", "groups": []}},
		"whitelist": {"emails": {}, "domains": {"xn--bcher-kva.example": {"company": "c1", "is_admin": false}}},
	}
	d := sso.decision with input as new_user("someone@XN--BCHER-KVA.example", [])
		with data.clearml.directory as dir
		with sso.extend as {}
		with data.clearml.config as settings({})

	d.allow
	d.reasons[0] == "signup:whitelist_domain"
}

test_default_company_signs_up_an_invalid_email if {
	d := sso.decision with input as new_user("\u212Aate@example.com", [])
		with data.clearml.directory as lookalikes
		with sso.extend as {}
		with data.clearml.config as settings({"default_company": "c1"})

	d.allow
	d.role == "user"
	d.reasons == ["signup:default_company", "role:new_user", "groups:disabled"]
}

test_existing_user_with_an_invalid_email_logs_in if {
	login := set_identity(existing_user("user", []), "email", "\u212Aate@example.com")
	d := sso.decision with input as login
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({})

	d.allow
	d.reasons[0] == "login:existing_user"
}

test_require_verified_email_denies_an_absent_claim if {
	d := sso.decision with input as new_user("admin@example.com", [])
		with data.clearml.directory as lookalikes
		with sso.extend as {}
		with data.clearml.config as settings({"require_verified_email": true})

	d == denied(["deny:email_not_verified"])
}

test_require_verified_email_accepts_true_only if {
	verified := set_identity(new_user("admin@example.com", []), "email_verified", true)
	allowed := sso.decision with input as verified
		with data.clearml.directory as lookalikes
		with sso.extend as {}
		with data.clearml.config as settings({"require_verified_email": true})

	allowed.allow

	every value in [false, "true", null] {
		login := set_identity(new_user("admin@example.com", []), "email_verified", value)
		d := sso.decision with input as login
			with data.clearml.directory as lookalikes
			with sso.extend as {}
			with data.clearml.config as settings({"require_verified_email": true})
		d == denied(["deny:email_not_verified"])
	}
}

test_absent_claim_signs_up_without_require_verified_email if {
	d := sso.decision with input as new_user("admin@example.com", [])
		with data.clearml.directory as lookalikes
		with sso.extend as {}
		with data.clearml.config as settings({})

	d.allow
}

test_require_verified_email_leaves_default_company_and_existing_users if {
	signup := sso.decision with input as new_user("nobody@nowhere.example", [])
		with data.clearml.directory as lookalikes
		with sso.extend as {}
		with data.clearml.config as settings({"default_company": "c1", "require_verified_email": true})

	signup.allow

	login := sso.decision with input as existing_user("user", [])
		with data.clearml.directory as directory
		with sso.extend as {}
		with data.clearml.config as settings({"require_verified_email": true})

	login.allow
}
