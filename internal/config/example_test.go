package config_test

import (
	"fmt"

	"github.com/pingauthz/pingauthz/internal/config"
)

func ExampleLoad() {
	const (
		svc = "CLEARML__services__login__sso__oauth_client__ping__"
		sec = "CLEARML__secure__login__sso__oauth_client__ping__"
	)
	cfg, warnings, err := config.Load([]string{
		svc + "authorize_url=https://auth.pingone.com/0a7af83d/as/authorize",
		svc + "access_token_url=https://auth.pingone.com/0a7af83d/as/token",
		svc + "groups__enabled=true",
		svc + `groups__admins=["ML Admins", Ops]`,
		svc + "groups__case_sensitve=false",
		sec + `client_id="${PING_CLIENT_ID}"`,
		sec + "client_secret=not-shown",
		"HOME=/root",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range warnings {
		fmt.Println("warning:", w.Message)
	}
	s := cfg.Summary()
	fmt.Println("groups.enabled =", s["groups.enabled"])
	fmt.Println("groups.admins =", s["groups.admins"])
	fmt.Println("groups.case_sensitive =", s["groups.case_sensitive"])
	fmt.Println("scopes =", s["scopes"])
	fmt.Println("client_id =", s["client_id"])
	fmt.Println("client_secret =", s["client_secret"])

	_, _, err = config.Load([]string{svc + "groups__enabled=maybe"})
	fmt.Println(err)
	// Output:
	// warning: the value contains ${...}, which is not expanded: the text is used as it is; write the value itself
	// warning: unknown key "groups__case_sensitve" is ignored; did you mean groups__case_sensitive (CLEARML__services__login__sso__oauth_client__ping__groups__case_sensitive)?
	// groups.enabled = true
	// groups.admins = ["ML Admins", "Ops"]
	// groups.case_sensitive = true
	// scopes = ["openid", "profile", "email"]
	// client_id = ${PING_CLIENT_ID}
	// client_secret = ****
	// config: invalid SSO configuration for provider "ping" (5 problems):
	// CLEARML__secure__login__sso__oauth_client__ping__client_id: is required: the client (application) ID registered in Ping
	// CLEARML__secure__login__sso__oauth_client__ping__client_secret: is required: the client secret registered in Ping
	// CLEARML__services__login__sso__oauth_client__ping__access_token_url: is required: the Ping token endpoint, e.g. https://auth.pingone.com/<environment-id>/as/token
	// CLEARML__services__login__sso__oauth_client__ping__authorize_url: is required: the Ping authorization endpoint, e.g. https://auth.pingone.com/<environment-id>/as/authorize
	// CLEARML__services__login__sso__oauth_client__ping__groups__enabled: accepts true or false (also yes/no, on/off); got "maybe"
}
