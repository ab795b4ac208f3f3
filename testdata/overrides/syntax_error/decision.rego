package clearml.sso

import data.clearml.config

decision := {"allow": true if {
	config.groups_enabled
}
