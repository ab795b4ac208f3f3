package clearml.sso

allow := true
