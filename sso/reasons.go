package sso

import (
	"strconv"
	"strings"
)

// Reason codes. A decision lists the codes that explain it; they are stable.
// An allow carries one entry code (login: or signup:), one role: code and one
// groups: code, in that order; a deny carries one deny: code, the first that
// applies in the order below, or ReasonPolicyError.
const (
	// ReasonExistingUser: an existing ClearML user logs in to their company.
	ReasonExistingUser = "login:existing_user"
	// ReasonSignupDefaultCompany: a new user signs up into default_company;
	// the whitelist and email_verified are not consulted.
	ReasonSignupDefaultCompany = "signup:default_company"
	// ReasonSignupWhitelistEmail: a new user signs up through a whitelisted
	// email, compared with ASCII letters lower-cased (nothing else folded).
	ReasonSignupWhitelistEmail = "signup:whitelist_email"
	// ReasonSignupWhitelistDomain: a new user signs up through a whitelisted
	// email domain (the part after the "@"), compared with ASCII letters
	// lower-cased.
	ReasonSignupWhitelistDomain = "signup:whitelist_domain"

	// ReasonRoleAdminGroup: role sync is on and a Ping group is an admin group.
	ReasonRoleAdminGroup = "role:admin_group"
	// ReasonRoleNotInAdminGroup: role sync is on and no Ping group is an
	// admin group, so the role is user (an admin is demoted).
	ReasonRoleNotInAdminGroup = "role:not_in_admin_group"
	// ReasonRoleWhitelistAdmin: no role sync; the whitelist entry a new user
	// signed up through has is_admin.
	ReasonRoleWhitelistAdmin = "role:whitelist_admin"
	// ReasonRoleNewUser: no role sync; a new user gets role user.
	ReasonRoleNewUser = "role:new_user"
	// ReasonRoleUnchanged: no role sync; an existing user's role stays.
	ReasonRoleUnchanged = "role:unchanged"

	// ReasonGroupsSynced: groups are enabled; the decision lists every
	// existing ClearML group of the company a Ping group names.
	ReasonGroupsSynced = "groups:synced"
	// ReasonGroupsDisabled: groups are disabled; memberships do not change.
	ReasonGroupsDisabled = "groups:disabled"
	// ReasonGroupsExtension: groups are disabled, but an operator's
	// extension rule (groups) names the user's ClearML groups.
	ReasonGroupsExtension = "groups:extension"

	// ReasonInvalidUser: the input's existing user has no company.
	ReasonInvalidUser = "deny:invalid_user"
	// ReasonNotWhitelisted: no default company and neither the email nor its
	// domain is whitelisted.
	ReasonNotWhitelisted = "deny:not_whitelisted"
	// ReasonInvalidEmail: no default company, and the email is not one plain
	// ASCII addr-spec, so it is never compared with the whitelist.
	ReasonInvalidEmail = "deny:invalid_email"
	// ReasonEmailNotVerified: the whitelist matches but email_verified is
	// false (or absent, with require_verified_email).
	ReasonEmailNotVerified = "deny:email_not_verified"
	// ReasonUnknownCompany: default_company or the whitelist entry names a
	// company missing from the directory.
	ReasonUnknownCompany = "deny:unknown_company"
	// ReasonNotInGroup: prohibit_user_signup_if_not_in_group is set and no
	// Ping group names an existing group of the target company.
	ReasonNotInGroup = "deny:not_in_group"

	// ReasonPolicyError is set by this package, never by a policy: the policy
	// failed, was undefined or returned a decision of the wrong shape.
	ReasonPolicyError = "policy_error"
)

// Reasons lists every reason code the default policies and this package use.
func Reasons() []string {
	return []string{
		ReasonExistingUser, ReasonSignupDefaultCompany, ReasonSignupWhitelistEmail, ReasonSignupWhitelistDomain,
		ReasonRoleAdminGroup, ReasonRoleNotInAdminGroup, ReasonRoleWhitelistAdmin, ReasonRoleNewUser, ReasonRoleUnchanged,
		ReasonGroupsSynced, ReasonGroupsDisabled, ReasonGroupsExtension,
		ReasonInvalidUser, ReasonNotWhitelisted, ReasonInvalidEmail, ReasonEmailNotVerified, ReasonUnknownCompany, ReasonNotInGroup,
		ReasonPolicyError,
	}
}

// sentences explain each built-in reason code in one sentence; the pages
// and `pingauthz policy eval --explain` show them.
var sentences = map[string]string{
	ReasonExistingUser:          "An existing user signs in to their company.",
	ReasonSignupDefaultCompany:  "New users sign up into the default company.",
	ReasonSignupWhitelistEmail:  "The email address is on the sign-up list.",
	ReasonSignupWhitelistDomain: "The email domain is on the sign-up list.",
	ReasonRoleAdminGroup:        "A Ping group of the user is an administrator group, so the role is admin.",
	ReasonRoleNotInAdminGroup:   "No Ping group of the user is an administrator group, so the role is user.",
	ReasonRoleWhitelistAdmin:    "The sign-up list entry makes the new user an admin.",
	ReasonRoleNewUser:           "New users get the user role.",
	ReasonRoleUnchanged:         "The user's role stays as it is.",
	ReasonGroupsSynced:          "ClearML group memberships follow the user's Ping groups.",
	ReasonGroupsDisabled:        "Group synchronization is off, so memberships do not change.",
	ReasonGroupsExtension:       "An operator rule sets the user's ClearML groups; Ping groups are not synchronized.",
	ReasonInvalidUser:           "The existing account has no company.",
	ReasonNotWhitelisted:        "Neither the email address nor its domain is on the sign-up list.",
	ReasonInvalidEmail:          "The email address is not one plain address such as name@example.com, so it cannot match the sign-up list.",
	ReasonEmailNotVerified:      "The email address is not verified at the identity provider.",
	ReasonUnknownCompany:        "The company the new user would join does not exist.",
	ReasonNotInGroup:            "Sign-up needs membership in a Ping group that exists in the company.",
	ReasonPolicyError:           "The decision policy failed, so the sign-in is denied.",
}

// Sentence explains a reason code in one sentence. A code of an operator's
// extension rule ("deny:NAME", "signup:NAME", "role:NAME") gets a sentence
// naming the rule; any other unknown code gets one quoting the code.
func Sentence(code string) string {
	if s, ok := sentences[code]; ok {
		return s
	}
	kind, name, ok := strings.Cut(code, ":")
	if ok && name != "" {
		switch kind {
		case "deny":
			return "An operator rule (" + name + ") denies the sign-in."
		case "signup":
			return "An operator rule (" + name + ") lets the new user sign up."
		case "role":
			return "An operator rule (" + name + ") sets the role."
		}
	}
	return "The policy gave the reason " + strconv.Quote(code) + "."
}
