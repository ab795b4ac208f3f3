package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pingauthz/pingauthz/internal/server"
)

// PluginPackage is the import path of the plugin's main package.
const PluginPackage = "github.com/pingauthz/pingauthz/cmd/pingauthz-plugin"

// ErrNoGoCommand is matched when the plugin must be built but the go command
// cannot be found.
var ErrNoGoCommand = errors.New("demo: the go command is not available to build the plugin")

// GoCommand returns the go command: the one on PATH, else $GOROOT/bin/go.
func GoCommand() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: install Go, or build %s elsewhere and pass --plugin PATH", ErrNoGoCommand, server.PluginName)
}

// BuildPlugin builds the plugin into dir with the go command, run in the
// current directory (which must be inside the pingauthz module), and returns
// the binary's path. Progress goes to progress when it is not nil.
func BuildPlugin(ctx context.Context, dir string, progress io.Writer) (string, error) {
	goCmd, err := GoCommand()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, server.PluginName)
	if progress != nil {
		fmt.Fprintf(progress, "Building %s (the first build can take a minute)...\n", server.PluginName)
	}
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", out, PluginPackage)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		return "", fmt.Errorf("demo: building the plugin with %s build %s failed: %w\n%s\n"+
			"Run the demo from the pingauthz source tree, or pass --plugin PATH", goCmd, PluginPackage, err, msg)
	}
	return out, nil
}

// PluginFor returns the plugin to run: path when it is set, else the binary
// next to the running executable, else one built into dir with the go
// command. PATH is never searched.
func PluginFor(ctx context.Context, path, dir string, progress io.Writer) (string, error) {
	if path != "" {
		if err := server.CheckPluginPath(path); err != nil {
			return "", err
		}
		return filepath.Abs(path)
	}
	if p, ok := server.PluginBesideExecutable(); ok {
		return p, nil
	}
	built, err := BuildPlugin(ctx, dir, progress)
	if errors.Is(err, ErrNoGoCommand) {
		if p, lerr := server.LocatePlugin(); lerr == nil {
			return p, nil
		}
	}
	return built, err
}
