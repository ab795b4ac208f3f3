package clearml.sso

decision := {
	"allow": true,
	"signup": true,
	"company": "c1",
	"role": "owner",
	"sync_groups": false,
	"groups": [],
	"reasons": ["signup:default_company"],
	"message": "",
}
