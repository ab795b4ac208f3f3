# An extension with a syntax error on line 6.
package clearml.sso.extend

admin contains "role:team_lead" if {
	"Team Leads" in input.identity.groups
	
