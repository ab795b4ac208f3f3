package system.log_test

import data.system.log

_event := {
	"decision_id": "5f0c2b9e-1d4a-4c3b-8e7f-0a1b2c3d4e5f",
	"input": {
		"identity": {
			"issuer": "https://auth.pingone.com/env/as",
			"subject": "s-1",
			"user_id": "s-1",
			"email": "ada@example.com",
			"name": "Ada",
			"groups": ["ML Team"],
			"claims": {"sub": "s-1", "address": {"street": "1 Main St"}},
		},
		"user": null,
	},
}

test_claims_erased if {
	"/input/identity/claims" in log.mask with input as _event
}

test_nothing_else_erased if {
	log.mask == {"/input/identity/claims"} with input as _event
}
