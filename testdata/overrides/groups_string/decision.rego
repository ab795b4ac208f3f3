package clearml.sso

decision := {
	"allow": true,
	"signup": true,
	"company": "c1",
	"role": "user",
	"sync_groups": true,
	"groups": "ML Team",
	"reasons": ["signup:default_company"],
	"message": "",
}
