package clearml.sso

decision := {
	"allow": "yes",
	"signup": true,
	"company": "c1",
	"role": "user",
	"sync_groups": false,
	"groups": [],
	"reasons": ["signup:default_company"],
	"message": "",
}
