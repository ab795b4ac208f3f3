package clearml.sso

decision := {"allow": false, "reasons": ["deny:b"]}
