# METADATA
# title: ClearML SSO decision
# description: |
#   Decides, for one Ping Identity login, whether the user may enter ClearML,
#   whether a new user is signed up and into which company, which role the
#   user gets, and which existing ClearML groups the user belongs to.
#   Configuration comes from data.clearml.config (generated from the
#   environment), the directory from data.clearml.directory (pushed by the
#   host) and the login from input. The reason codes are listed in
#   policies/README.md.
package clearml.sso

import data.clearml.config

# METADATA
# title: decision
# description: |
#   The decision object: allow, signup, company, role ("admin", "user" or
#   null to leave the role as it is), sync_groups, groups (exact ClearML
#   names, sorted) and reasons (stable codes explaining the decision).
# entrypoint: true
decision := {
	"allow": true,
	"signup": _route.signup,
	"company": _route.company,
	"role": _role.role,
	"sync_groups": _groups.sync,
	"groups": _groups.names,
	"reasons": [_route.reason, _role.reason, _groups.reason],
} if {
	count(_denials) == 0
} else := {
	"allow": false,
	"signup": false,
	"company": "",
	"role": null,
	"sync_groups": false,
	"groups": [],
	"reasons": sort(_denials),
}

# An existing user is the ClearML user matched by issuer and user id.
_existing_user if is_object(input.user)

_new_user if not _existing_user

# How the user enters ClearML: an existing user logs in, a new user signs up
# into the default company or through the whitelist.
_route := {
	"reason": "login:existing_user",
	"signup": false,
	"company": input.user.company,
} if {
	_existing_user
	is_string(input.user.company)
	input.user.company != ""
} else := {
	"reason": "signup:default_company",
	"signup": true,
	"company": config.default_company,
} if {
	_new_user
	config.default_company != ""
} else := {
	"reason": concat(":", ["signup", _whitelist.via]),
	"signup": true,
	"company": object.get(_whitelist.entry, "company", ""),
} if {
	_whitelist_signup
	not _email_unverified
}

_target_company := _route.company

# Without a default company, a new user signs up only through the whitelist.
_whitelist_signup if {
	_new_user
	config.default_company == ""
	_whitelist
}

_denials contains "deny:invalid_user" if {
	_existing_user
	not _route
}

_denials contains "deny:not_whitelisted" if {
	_new_user
	config.default_company == ""
	not _whitelist
}

_denials contains "deny:email_not_verified" if {
	_whitelist_signup
	_email_unverified
}

_denials contains "deny:unknown_company" if {
	_new_user
	_route
	not _company_exists
}

_denials contains "deny:not_in_group" if {
	_new_user
	config.prohibit_user_signup_if_not_in_group
	_company_exists
	count(_matched_groups) == 0
}

# Only an explicit email_verified false counts; an absent claim does not.
_email_unverified if input.identity.email_verified == false

_email := lower(input.identity.email) if is_string(input.identity.email)

# The domain is the part after the last "@".
_email_domain := domain if {
	parts := split(_email, "@")
	count(parts) > 1
	domain := parts[count(parts) - 1]
	domain != ""
}

# The whitelist entry a new user signs up through: an email entry first, then
# a domain entry, both compared case-insensitively.
_whitelist := {"via": "whitelist_email", "entry": _whitelist_email_entry} if {
	_whitelist_email_entry
} else := {"via": "whitelist_domain", "entry": _whitelist_domain_entry} if {
	_whitelist_domain_entry
}

_whitelist_email_entry := data.clearml.directory.index.whitelist.emails[_email] if _indexed

_whitelist_email_entry := entry if {
	not _indexed
	some address, entry in data.clearml.directory.whitelist.emails
	lower(address) == _email
}

_whitelist_domain_entry := data.clearml.directory.index.whitelist.domains[_email_domain] if _indexed

_whitelist_domain_entry := entry if {
	not _indexed
	some domain, entry in data.clearml.directory.whitelist.domains
	lower(domain) == _email_domain
}

# The Go host writes lookup indexes next to the directory; without them (as in
# hand-written test data) the same answers are computed from the directory.
_indexed if data.clearml.directory.index.version == 1

_company_exists if {
	_indexed
	data.clearml.directory.index.companies[_target_company]
}

_company_exists if {
	not _indexed
	data.clearml.directory.companies[_target_company]
}

# The user's Ping groups: the identity's groups as a list or a single string;
# absent means none.
default _ping_groups := set()

_ping_groups := {group | some group in input.identity.groups; is_string(group)} if {
	is_array(input.identity.groups)
} else := {input.identity.groups} if {
	is_string(input.identity.groups)
}

_ping_groups_folded contains lower(group) if some group in _ping_groups

# Every existing ClearML group of the target company one of the Ping groups
# names, with the configured case rule. Groups are never created.
_matched_groups contains name if {
	_indexed
	config.groups_case_sensitive
	some group in _ping_groups
	name := data.clearml.directory.index.companies[_target_company].exact[group]
}

_matched_groups contains name if {
	_indexed
	not config.groups_case_sensitive
	some group in _ping_groups_folded
	some name in data.clearml.directory.index.companies[_target_company].folded[group]
}

_matched_groups contains name if {
	not _indexed
	some name in data.clearml.directory.companies[_target_company].groups
	_names_group(name)
}

_names_group(name) if {
	config.groups_case_sensitive
	name in _ping_groups
}

_names_group(name) if {
	not config.groups_case_sensitive
	lower(name) in _ping_groups_folded
}

default _groups := {"sync": false, "names": [], "reason": "groups:disabled"}

_groups := {"sync": true, "names": sort(_matched_groups), "reason": "groups:synced"} if {
	config.groups_enabled
}

# Role sync is on when groups are enabled and admin groups are configured.
_role_sync if {
	config.groups_enabled
	count(config.admin_groups) > 0
}

_admin_member if {
	config.groups_case_sensitive
	some group in _ping_groups
	group in config.admin_groups
}

_admin_member if {
	not config.groups_case_sensitive
	some group in config.admin_groups
	lower(group) in _ping_groups_folded
}

default _role := {"role": "user", "reason": "role:new_user"}

_role := {"role": "admin", "reason": "role:admin_group"} if {
	_role_sync
	_admin_member
} else := {"role": "user", "reason": "role:not_in_admin_group"} if {
	_role_sync
} else := {"role": null, "reason": "role:unchanged"} if {
	_existing_user
} else := {"role": "admin", "reason": "role:whitelist_admin"} if {
	_whitelist_signup
	_whitelist.entry.is_admin == true
}
