package clearml.sso

# Two definitions that both hold with different values: a runtime conflict.
decision := {"allow": true} if input.identity

decision := {"allow": false} if input.identity
