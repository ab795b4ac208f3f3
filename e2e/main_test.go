package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pingauthz/pingauthz/internal/demo"
)

// pluginBinary is the plugin built once for every test and benchmark.
var pluginBinary string

// binDir holds the binaries built for the tests.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pingauthz-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	if pluginBinary, err = demo.BuildPlugin(context.Background(), dir, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

var (
	cliOnce   sync.Once
	cliBinary string
	cliErr    error
)

// buildCLI builds the pingauthz command once, next to the plugin (where
// `pingauthz serve` looks for it by default).
func buildCLI(tb testing.TB) string {
	tb.Helper()
	cliOnce.Do(func() {
		goCmd, err := demo.GoCommand()
		if err != nil {
			cliErr = err
			return
		}
		out := filepath.Join(binDir, "pingauthz")
		cmd := exec.Command(goCmd, "build", "-o", out, "github.com/pingauthz/pingauthz/cmd/pingauthz")
		if b, err := cmd.CombinedOutput(); err != nil {
			cliErr = fmt.Errorf("building pingauthz: %v\n%s", err, b)
			return
		}
		cliBinary = out
	})
	if cliErr != nil {
		tb.Fatal(cliErr)
	}
	return cliBinary
}
