// Command pingauthz-plugin is the pingauthz plugin: it serves the Ping
// login and the decision policies over go-plugin gRPC. The server launches
// it; it does nothing useful when run by hand. It reads its configuration
// from the CLEARML__... environment the server passes on.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hashicorp/go-hclog"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/gctune"
	"github.com/pingauthz/pingauthz/internal/provider"
	"github.com/pingauthz/pingauthz/plugin"
)

// notLaunched is the message for a binary run by hand.
const notLaunched = "pingauthz-plugin is a plugin for pingauthz; it is launched by the server, not run by hand"

// errLogged marks an error already written to the log.
var errLogged = errors.New("pingauthz-plugin: stopped; see the log above")

func main() {
	gctune.Apply(os.Getenv)
	if err := run(); err != nil {
		if !errors.Is(err, errLogged) {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(1)
	}
}

func run() error {
	if os.Getenv(plugin.Handshake.MagicCookieKey) != plugin.Handshake.MagicCookieValue {
		return errors.New(notLaunched)
	}
	cfg, warnings, cfgErr := config.FromEnv()
	level := hclog.Info
	if cfg != nil && cfg.Debug {
		level = hclog.Debug
	}
	// JSON lines on stderr: go-plugin relays them to the host with levels.
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "pingauthz-plugin",
		Output:     os.Stderr,
		JSONFormat: true,
		Level:      level,
	})
	for _, w := range warnings {
		logger.Warn("configuration variable ignored", "variable", w.Var, "reason", w.Message)
	}
	if cfgErr != nil {
		logConfigError(logger, cfgErr)
		return errLogged
	}
	p, err := provider.New(context.Background(), cfg, provider.Options{Logger: logger})
	if err != nil {
		logger.Error("cannot start the provider", "error", err)
		return errLogged
	}
	// Close also uploads what the decision log still holds.
	defer p.Close()
	plugin.Serve(p, logger)
	return nil
}

// logConfigError logs each problem of a configuration error on its own line.
func logConfigError(logger hclog.Logger, err error) {
	var verr *config.ValidationError
	if !errors.As(err, &verr) {
		logger.Error("invalid configuration", "error", err)
		return
	}
	for _, p := range verr.Problems {
		logger.Error("invalid configuration", "variable", p.Var, "problem", p.Message)
	}
	logger.Error(fmt.Sprintf("invalid configuration: %d problem(s); fix the variables named above", len(verr.Problems)))
}
