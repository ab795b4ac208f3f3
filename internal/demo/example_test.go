package demo_test

import (
	"context"
	"fmt"
	"log"

	"github.com/pingauthz/pingauthz/internal/demo"
)

// Start runs the emulator, the server and the plugin; Login drives a login
// the way a browser without JavaScript would. (Not run: it needs the plugin
// binary, which Start builds with the go command when PluginPath is empty.)
func ExampleStart() {
	ctx := context.Background()
	d, err := demo.Start(ctx, demo.Options{Listen: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()

	alice, _ := demo.FindUser(d.Users, demo.Admin)
	r, err := demo.Login(ctx, demo.NewBrowserClient(nil), d.URL, alice.Username, alice.Password)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Status, r.Location, r.Session) // 303 / true
}
