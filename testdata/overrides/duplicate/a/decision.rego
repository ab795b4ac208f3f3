package clearml.sso

decision := {"allow": false, "reasons": ["deny:a"]}
