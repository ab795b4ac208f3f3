# Example 5: members of the Ping group "Contractors" are never admins, not
# through an admin group, a whitelist entry or another extension rule; an
# admin who becomes a contractor is demoted at the next login.
package clearml.sso.extend

not_admin contains "role:contractor" if "Contractors" in input.identity.groups
