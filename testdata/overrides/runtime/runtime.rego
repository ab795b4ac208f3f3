# An operator's addition that reads the process environment, where the
# client secret is: withheld unless policy__insecure_builtins names it.
package clearml.runtime

secret := opa.runtime().env.CLEARML__secure__login__sso__oauth_client__ping__client_secret
