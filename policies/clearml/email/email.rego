# METADATA
# title: ClearML email rule
# description: |
#   The one rule email addresses and whitelist domains are compared by, the
#   same as the Go package internal/email (same patterns): an address is
#   valid when it is exactly one plain ASCII addr-spec (a dot-atom local
#   part, "@", and a domain of letters, digits and hyphens in A-label form);
#   valid addresses compare with ASCII letters lower-cased. lower() folds
#   only ASCII letters here because a valid address is ASCII. An address
#   that is not valid has no key and matches nothing.
package clearml.email

# METADATA
# title: pattern
# description: A valid address. \x60 is the backquote.
pattern := `^[A-Za-z0-9!#$%&'*+/=?^_\x60{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_\x60{|}~-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$` # regal ignore:line-length

# METADATA
# title: domain_pattern
# description: A valid domain, the domain part of pattern.
domain_pattern := `^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$` # regal ignore:line-length

# METADATA
# title: valid
# description: True when address is a string that pattern matches.
valid(address) if {
	is_string(address)
	regex.match(pattern, address)
}

# METADATA
# title: valid_domain
# description: True when domain is a string that domain_pattern matches.
valid_domain(domain) if {
	is_string(domain)
	regex.match(domain_pattern, domain)
}

# METADATA
# title: key
# description: The comparison key of a valid address; undefined otherwise.
key(address) := lower(address) if valid(address)

# METADATA
# title: domain_key
# description: The comparison key of a valid domain; undefined otherwise.
domain_key(domain) := lower(domain) if valid_domain(domain)

# METADATA
# title: domain
# description: The domain key of a valid address, e.g. "example.com".
domain(address) := split(key(address), "@")[1]
