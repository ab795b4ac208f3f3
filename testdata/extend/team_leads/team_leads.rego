# Example 1: members of the Ping group "Team Leads" are ClearML admins, at
# every login, whether or not role sync (groups__admins) is on.
package clearml.sso.extend

admin contains "role:team_lead" if "Team Leads" in input.identity.groups
