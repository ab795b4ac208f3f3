# The email rule: which addresses and domains are valid, and their keys.
package clearml.email_test

import data.clearml.email

test_plain_addresses_are_valid if {
	every address in [
		"alice@example.com",
		"Alice.Smith@Example.COM",
		"a!#$%&'*+/=?^_`{|}~-z@x-y.example",
		"user@xn--bcher-kva.example",
		"x@localhost",
		"1@2.3",
	] {
		email.valid(address)
	}
}

test_everything_else_is_invalid if {
	every address in [
		"",
		"alice",
		"attacker@evil.com@example.com",
		"\"alice\"@example.com",
		"\"a@b\"@example.com",
		"Alice <alice@example.com>",
		"<alice@example.com>",
		"alice@example.com ",
		" alice@example.com",
		"al ice@example.com",
		"alice@example.com\n",
		"admİn@example.com",
		"\u212Aate@example.com",
		"kate@e\u212Aample.com",
		"user@bücher.example",
		"alice@[127.0.0.1]",
		"alice@example.com.",
		".alice@example.com",
		"alice.@example.com",
		"al..ice@example.com",
		"alice@-example.com",
		"alice@example-.com",
		"alice@exa_mple.com",
		"alice@example..com",
		"(comment)alice@example.com",
		"@example.com",
		"alice@",
	] {
		not email.valid(address)
	}
}

test_non_strings_are_invalid if {
	every value in [null, 1, true, ["a@b.example"], {"a@b.example": true}] {
		not email.valid(value)
		not email.valid_domain(value)
	}
}

test_key_folds_ascii_letters_only if {
	email.key("Alice@Example.COM") == "alice@example.com"
	not email.key("\u212Aate@example.com")
	not email.key("admİn@example.com")
}

test_domain_is_the_key_after_the_at if {
	email.domain("Bob@Corp.Example") == "corp.example"
	not email.domain("attacker@evil.com@example.com")
}

test_domain_keys if {
	email.domain_key("Corp.Example") == "corp.example"
	email.domain_key("xn--bcher-kva.example") == "xn--bcher-kva.example"
	every domain in ["", "@corp.example", "bücher.example", "e\u212Aample.com", "corp.example.", "-corp.example"] {
		not email.domain_key(domain)
	}
}

test_a_label_is_at_most_63_characters if {
	label_63 := concat("", ["a" | some _ in numbers.range(1, 63)])
	email.valid_domain(concat(".", [label_63, "example"]))

	label_64 := concat("", ["a" | some _ in numbers.range(1, 64)])
	not email.valid_domain(concat(".", [label_64, "example"]))
}
