# An operator's addition that calls out to the network and reads the
# environment: withheld unless policy__insecure_builtins names the builtins.
package clearml.lookup

# The directory service's answer for the login's email.
profile := http.send({"method": "GET", "url": concat("", ["https://directory.example/", input.identity.email])})

# The addresses of the email's domain.
addresses := net.lookup_ip_addr(split(input.identity.email, "@")[1])

in_office if {
	some cidr in ["10.0.0.0/8"]
	net.cidr_contains(cidr, input.identity.claims.ip)
}
