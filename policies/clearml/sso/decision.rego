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
import data.clearml.email
import data.clearml.sso.extend # regal ignore:pointless-import,prefer-package-imports

# METADATA
# title: decision
# description: |
#   The decision object: allow, signup, company, role ("admin", "user" or
#   null to leave the role as it is), sync_groups, groups (exact ClearML
#   names, sorted), reasons (stable codes explaining the decision) and
#   message (an extension deny's text for the user, "" otherwise). A deny
#   carries the first reason that applies, in this order: the built-in
#   denials, then the extension rules deny and deny_signup.
# entrypoint: true
decision := _deny("deny:invalid_user") if {
	is_object(input.user)
	not _valid_company(object.get(input.user, "company", null))
} else := _deny(_no_entry) if {
	not _entry
} else := _deny("deny:unknown_company") if {
	not _company_index
	_entry.signup
} else := _deny("deny:not_in_group") if {
	config.prohibit_user_signup_if_not_in_group
	count(_matched_groups) == 0
	_entry.signup
} else := object.union(_deny(denial.code), {"message": denial.message}) if {
	denial := _extension_deny
} else := object.union(_deny(denial.code), {"message": denial.message}) if {
	_entry.signup
	denial := _extension_deny_signup
} else := _allow

_deny(reason) := {
	"allow": false,
	"signup": false,
	"company": "",
	"role": null,
	"sync_groups": false,
	"groups": [],
	"reasons": [reason],
	"message": "",
}

# An allow: how the user enters, the role, and what happens to groups. With
# groups enabled, the ClearML groups the Ping groups name and those the
# extension adds; with groups disabled, only those the extension adds, if it
# has a groups rule; otherwise no change.
# regal ignore:rule-length
_allow := {
	"allow": true,
	"signup": _entry.signup,
	"company": _company,
	"role": _role.role,
	"sync_groups": true,
	"groups": sort(_matched_groups | _extension_groups),
	"reasons": [_entry.reason, _role.reason, "groups:synced"],
	"message": "",
} if {
	config.groups_enabled
	_extension_groups
} else := {
	"allow": true,
	"signup": _entry.signup,
	"company": _company,
	"role": _role.role,
	"sync_groups": true,
	"groups": sort(_matched_groups),
	"reasons": [_entry.reason, _role.reason, "groups:synced"],
	"message": "",
} if {
	config.groups_enabled
} else := {
	"allow": true,
	"signup": _entry.signup,
	"company": _company,
	"role": _role.role,
	"sync_groups": true,
	"groups": sort(_extension_groups),
	"reasons": [_entry.reason, _role.reason, "groups:extension"],
	"message": "",
} if {
	_extension_groups
} else := {
	"allow": true,
	"signup": _entry.signup,
	"company": _company,
	"role": _role.role,
	"sync_groups": false,
	"groups": [],
	"reasons": [_entry.reason, _role.reason, "groups:disabled"],
	"message": "",
}

# How the login enters ClearML: an existing user (matched by issuer and user
# id; a null or absent user is a first login) logs in to their company; a
# new user signs up into the default company, or else through the whitelist
# with an email that is not unverified, or else through the extension's
# signup rule with a valid email that is not unverified (see _company for
# the company).
_entry := {
	"reason": "login:existing_user",
	"signup": false,
	"company": input.user.company,
} if {
	is_object(input.user)
} else := {
	"reason": "signup:default_company",
	"signup": true,
	"company": config.default_company,
} if {
	config.default_company != ""
} else := {
	"reason": _whitelist.reason,
	"signup": true,
	"company": object.get(_whitelist.entry, "company", ""),
} if {
	not _email_unverified
} else := {
	"reason": _extension_signup,
	"signup": true,
	"company": "",
} if {
	not _email_unverified
	not _email_invalid
}

# The company the user enters: a new user's goes to the extension's company
# when it names one, in place of the default company's or the whitelist
# entry's.
_company := _extension_company if {
	_entry.signup
} else := _entry.company

# A new user without a way in: an email that can match no whitelist entry,
# not on the whitelist, or on it (or let in by the extension's signup rule)
# with an unverified email.
default _no_entry := "deny:not_whitelisted"

_no_entry := "deny:invalid_email" if {
	_email_invalid
} else := "deny:email_not_verified" if {
	_whitelist
} else := "deny:email_not_verified" if {
	_extension_signup
}

_valid_company(company) if {
	is_string(company)
	company != ""
}

# An explicit email_verified false counts; an absent claim counts too when
# require_verified_email is set.
_email_unverified if input.identity.email_verified == false

_email_unverified if {
	config.require_verified_email
	not input.identity.email_verified == true
}

# An email that is set but is not one plain ASCII addr-spec (see
# data.clearml.email); a missing or empty email is merely not whitelisted.
_email_invalid if {
	address := object.get(input.identity, "email", null)
	not address in {null, ""}
	not email.valid(address)
}

# The email and its domain as whitelist keys (ASCII letters lower-cased);
# undefined for an email that is not valid.
_email := email.key(input.identity.email)

_email_domain := email.domain(input.identity.email)

# The whitelist entry a new user signs up through: an email entry first, then
# a domain entry, both compared under the email rule.
_whitelist := {"reason": "signup:whitelist_email", "entry": entry} if {
	entry := _whitelist_index.emails[_email]
} else := {"reason": "signup:whitelist_domain", "entry": entry} if {
	entry := _whitelist_index.domains[_email_domain]
}

# The lookup indexes the Go host writes next to the directory (version 1),
# or, without them (as in hand-written test data), the same indexes computed
# here. The target company's groups, by exact name and by lower-case name,
# are undefined when the company does not exist.
_company_index := data.clearml.directory.index.companies[_company] if {
	data.clearml.directory.index.version == 1
} else := _computed_company_index if {
	not data.clearml.directory.index.version == 1
}

_computed_company_index := {"exact": exact, "folded": folded} if {
	company := data.clearml.directory.companies[_company]
	exact := {name: name | some name in company.groups}
	folded := {lower(name): [other | some other in company.groups; lower(other) == lower(name)] |
		some name in company.groups
	}
}

# Whitelist keys that are not valid addresses or domains match nothing and
# are left out, as the Go index does.
_whitelist_index := data.clearml.directory.index.whitelist if {
	data.clearml.directory.index.version == 1
} else := {
	"emails": {key: entry |
		some address, entry in data.clearml.directory.whitelist.emails
		key := email.key(address)
	},
	"domains": {key: entry |
		some domain, entry in data.clearml.directory.whitelist.domains
		key := email.domain_key(domain)
	},
}

# The user's Ping groups: the identity's groups as a list, or a single
# string; absent means none.
default _ping_groups := []

_ping_groups := input.identity.groups if {
	is_array(input.identity.groups)
} else := [input.identity.groups] if {
	is_string(input.identity.groups)
}

# lower is undefined for a value that is not a string, which drops it.
_ping_groups_folded contains lower(group) if some group in _ping_groups

# Every existing ClearML group of the target company one of the Ping groups
# names, with the configured case rule. Groups are never created. Each Ping
# group costs one lookup, whatever the number of ClearML groups.
_matched_groups := {name |
	exact := _company_index.exact
	some group in _ping_groups
	name := exact[group]
} if {
	config.groups_case_sensitive
} else := {name |
	folded := _company_index.folded
	some group in _ping_groups_folded
	some name in folded[group]
}

# The extension's not_admin rule, then its admin rule, decide the role at
# every login when they have a code. Otherwise role sync is on when groups
# are enabled and admin groups are configured; it re-evaluates the role at
# every login. Without it, a new user is a user unless the whitelist entry
# that signs them up into its own company says admin, and an existing
# user's role stays.
default _role := {"role": "user", "reason": "role:new_user"}

_role := {"role": "user", "reason": _extension_not_admin} if {
	_extension_not_admin
} else := {"role": "admin", "reason": _extension_admin} if {
	_extension_admin
} else := {"role": "admin", "reason": "role:admin_group"} if {
	config.groups_enabled
	config.groups_case_sensitive
	admins := config.admin_groups
	some group in admins
	group in _ping_groups
} else := {"role": "admin", "reason": "role:admin_group"} if {
	config.groups_enabled
	not config.groups_case_sensitive
	admins := config.admin_groups
	some group in admins
	lower(group) in _ping_groups_folded
} else := {"role": "user", "reason": "role:not_in_admin_group"} if {
	config.groups_enabled
	count(config.admin_groups) > 0
} else := {"role": null, "reason": "role:unchanged"} if {
	is_object(input.user)
} else := {"role": "admin", "reason": "role:whitelist_admin"} if {
	startswith(_entry.reason, "signup:whitelist_")
	_whitelist.entry.is_admin == true
	_company == _whitelist.entry.company
}

# The extension points: how the decision consults the operator's rules in
# package clearml.sso.extend. Every rule is optional; an undefined rule
# changes nothing. Where a rule holds several codes, the smallest one is the
# reason. pingauthz checks the rules' types and codes before any login and
# turns a malformed value into a policy_error deny; the rules here read only
# well-formed entries.

# The deny entry with the smallest code (and, among equal codes, the
# smallest message): it denies every login.
_extension_deny := _smallest_denial(extend.deny)

# The same for deny_signup: it denies sign-ups only.
_extension_deny_signup := _smallest_denial(extend.deny_signup)

_smallest_denial(entries) := {"code": first[0], "message": first[1]} if {
	pairs := [[entry.code, entry.message] |
		some entry in entries
		is_string(entry.code)
		is_string(entry.message)
	]
	count(pairs) > 0
	first := sort(pairs)[0]
}

# The smallest signup code: a new user not otherwise allowed may sign up.
_extension_signup := _smallest_code(extend.signup)

# The smallest admin and not_admin codes.
_extension_admin := _smallest_code(extend.admin)

_extension_not_admin := _smallest_code(extend.not_admin)

_smallest_code(codes) := min(valid) if {
	valid := {code | some code in codes; is_string(code)}
	count(valid) > 0
}

# The company every sign-up goes to.
_extension_company := extend.company if is_string(extend.company)

# The extension's groups that exist in the target company (exact names),
# when it has a groups rule defined for this login.
_extension_groups := {name |
	some name in extend.groups
	exact[name]
} if {
	extend.groups
	exact := _company_index.exact
}
