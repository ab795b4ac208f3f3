package clearml.audit_test

import data.clearml.audit

test_label_for_an_existing_user if {
	audit.label == "allowed" with input as {"identity": {"email": "a@b.example"}, "user": {"id": "u1", "company": "c1"}}
}

test_label_for_a_stranger if {
	audit.label == "denied" with input as {"identity": {"email": "a@b.example"}, "user": null}
}
