# An operator's own configuration module replacing the generated one.
package clearml.config

admin_groups := {"Platform Admins"}

default_company := ""

groups_case_sensitive := true

groups_claim := "groups"

groups_enabled := true

groups_from_dn := false

prohibit_user_signup_if_not_in_group := false

provider := "ping"
