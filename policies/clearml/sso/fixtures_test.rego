# Shared fixtures for the decision tests: a directory and login inputs.
# Company c1 has the groups "ML Team" and "Data"; company c2 has three
# groups that differ only in letter case, and "Ops".
package clearml.sso_test

directory := {
	"companies": {
		"c1": {"name": "Company One", "groups": ["ML Team", "Data"]},
		"c2": {"name": "Company Two", "groups": ["ml team", "ML TEAM", "Ml Team", "Ops"]},
	},
	"whitelist": {
		"emails": {
			"Alice@Example.com": {"company": "c1", "is_admin": false},
			"boss@example.com": {"company": "c1", "is_admin": true},
			"lead@corp.example": {"company": "c2", "is_admin": false},
			"ghost@example.com": {"company": "missing", "is_admin": false},
		},
		"domains": {
			"Corp.Example": {"company": "c1", "is_admin": false},
			"admins.example": {"company": "c2", "is_admin": true},
		},
	},
}

# identity is a verified login without an email_verified claim.
identity(email, groups) := {
	"issuer": "https://auth.pingone.example/env/as",
	"subject": "subject-1",
	"user_id": "subject-1",
	"email": email,
	"name": "Test User",
	"groups": groups,
	"claims": {"sub": "subject-1", "email": email},
}

# new_user is the input of a first login.
new_user(email, groups) := {"identity": identity(email, groups), "user": null}

# new_unverified is a first login whose email_verified claim is false.
new_unverified(email, groups) := {
	"identity": object.union(identity(email, groups), {"email_verified": false}),
	"user": null,
}

# set_identity is login with one identity field set to value.
set_identity(login, field, value) := object.union(login, {"identity": object.union(login.identity, {field: value})})

# existing_user is a login of a ClearML user of company c1 with the given role.
existing_user(role, groups) := {
	"identity": identity("someone@elsewhere.example", groups),
	"user": {"id": "u1", "company": "c1", "role": role, "groups": ["Data"]},
}

# denied is the whole decision for a deny with the given reasons.
denied(reasons) := {
	"allow": false,
	"signup": false,
	"company": "",
	"role": null,
	"sync_groups": false,
	"groups": [],
	"reasons": reasons,
	"message": "",
}

# settings is the default configuration with overrides applied. Tests replace
# data.clearml.config with it as a whole, so they hold whatever config.rego
# the effective policy set was generated with.
settings(overrides) := object.union(
	{
		"admin_groups": set(),
		"default_company": "",
		"groups_case_sensitive": true,
		"groups_claim": "groups",
		"groups_enabled": false,
		"groups_from_dn": false,
		"prohibit_user_signup_if_not_in_group": false,
		"provider": "ping",
		"require_verified_email": false,
	},
	overrides,
)
