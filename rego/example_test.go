package rego_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/rego"
)

// Example builds an engine for a server with group sync and an admin group,
// pushes the directory once, and decides two logins.
func Example() {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DefaultCompany = "c1"
	cfg.Groups.Enabled = true
	cfg.Groups.Admins = []string{"ClearML-Admins"}

	engine, err := rego.New(ctx, &cfg)
	if err != nil {
		log.Fatal(err)
	}
	err = engine.SetDirectory(ctx, &sso.Directory{
		Companies: map[string]sso.Company{"c1": {Name: "Company One", Groups: []string{"ML Team", "Data"}}},
	})
	if err != nil {
		log.Fatal(err)
	}

	for _, in := range []*sso.Input{
		{Identity: sso.Identity{Email: "new@example.com", Groups: []string{"ML Team", "ClearML-Admins"}}},
		{
			Identity: sso.Identity{Email: "old@example.com", Groups: []string{"Data"}},
			User:     &sso.User{ID: "u1", Company: "c1", Role: "admin"},
		},
	} {
		d, err := engine.Decide(ctx, in)
		if err != nil {
			log.Fatal(err)
		}
		out, _ := json.Marshal(d)
		fmt.Println(string(out))
	}
	// Output:
	// {"allow":true,"signup":true,"company":"c1","role":"admin","sync_groups":true,"groups":["ML Team"],"reasons":["signup:default_company","role:admin_group","groups:synced"],"message":""}
	// {"allow":true,"signup":false,"company":"c1","role":"user","sync_groups":true,"groups":["Data"],"reasons":["login:existing_user","role:not_in_admin_group","groups:synced"],"message":""}
}
