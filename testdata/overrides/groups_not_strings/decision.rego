package clearml.sso

decision := {
	"allow": true,
	"signup": true,
	"company": "c1",
	"role": "user",
	"sync_groups": true,
	"groups": ["ML Team", 7],
	"reasons": ["signup:default_company"],
	"message": "",
}
