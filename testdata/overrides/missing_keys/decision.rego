package clearml.sso

decision := {
	"allow": true,
	"company": "c1",
	"reasons": ["signup:default_company"],
}
