# Example 4: a Ping group "clearml-<name>" stands for the existing ClearML
# group "<name>" (exact name; groups are never created). This works with
# groups__enabled off too: then only these groups are synchronized.
package clearml.sso.extend

groups contains name if {
	some group in input.identity.groups
	startswith(group, "clearml-")
	name := substring(group, count("clearml-"), -1)
}
