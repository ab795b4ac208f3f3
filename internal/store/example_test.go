package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/internal/store"
)

// Example sets a directory up as an administrator would, then applies the
// decision of a first login and starts a session.
func Example() {
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := store.Open(ctx, filepath.Join(dir, "pingauthz.db"),
		store.OnChange(func() { fmt.Println("directory changed") }))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	for _, err := range []error{
		s.AddCompany(ctx, "acme", "Acme Corp"),
		s.AddGroup(ctx, "acme", "ML Team"),
		s.WhitelistAdd(ctx, "acme", "@acme.com", false),
	} {
		if err != nil {
			log.Fatal(err)
		}
	}

	id := &sso.Identity{Issuer: "https://auth.pingone.com/env/as", UserID: "sub-1",
		Email: "ada@acme.com", Name: "Ada", Groups: []string{"ML Team", "Staff"}}
	acct, err := s.Apply(ctx, id, &sso.Decision{Allow: true, Signup: true, Company: "acme",
		SyncGroups: true, Groups: []string{"ML Team"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(acct.Email, acct.Company, acct.Role, acct.Groups)

	token, err := s.CreateSession(ctx, acct.ID, 12*time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	again, err := s.SessionAccount(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(again.ID == acct.ID)
	// Output:
	// directory changed
	// directory changed
	// directory changed
	// ada@acme.com acme user [ML Team]
	// true
}
