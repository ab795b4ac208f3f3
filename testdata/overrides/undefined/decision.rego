package clearml.sso

# The decision exists but is undefined for every input.
decision := {
	"allow": true,
	"signup": true,
	"company": "c1",
	"role": "user",
	"sync_groups": false,
	"groups": [],
	"reasons": ["signup:default_company"],
	"message": "",
} if {
	input.never_set
}
