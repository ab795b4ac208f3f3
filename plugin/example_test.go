package plugin_test

import (
	"context"
	"fmt"
	"os/exec"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/pingauthz/pingauthz/plugin"
)

// The host launches the plugin binary, dispenses the Authenticator and calls
// it like a local value. Errors of a failed login are *plugin.LoginError.
func ExampleClientConfig() {
	logger := hclog.New(&hclog.LoggerOptions{Name: "pingauthz"})
	cmd := exec.Command("/usr/libexec/pingauthz-plugin")
	cmd.Env = []string{"CLEARML__services__login__sso__oauth_client__ping__authorize_url=..."}
	client := goplugin.NewClient(plugin.ClientConfig(cmd, nil, logger))
	defer client.Kill()

	auth, err := plugin.Dispense(client)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := auth.SetDirectory(ctx, &sso.Directory{}); err != nil {
		fmt.Println(err)
		return
	}
	d, err := auth.Decide(ctx, &sso.Input{Identity: sso.Identity{Email: "alice@acme.com"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Allow, d.Reasons)
}

// The plugin binary serves its implementation; Serve returns when the host
// ends the plugin.
func ExampleServe() {
	var impl plugin.Authenticator // the provider, built from the environment
	plugin.Serve(impl, hclog.New(&hclog.LoggerOptions{JSONFormat: true}))
}
