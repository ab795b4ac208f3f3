package server

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// PluginName is the file name of the plugin binary.
const PluginName = "pingauthz-plugin"

// ErrPluginNotFound is matched when neither the directory of the running
// executable nor PATH holds the plugin.
var ErrPluginNotFound = errors.New("server: plugin binary " + PluginName + " not found")

// LocatePlugin returns the plugin binary next to the running executable, or
// else the one on PATH. It does not check that the file is a plugin.
func LocatePlugin() (string, error) {
	var tried []string
	if p, ok := PluginBesideExecutable(); ok {
		return p, nil
	} else if p != "" {
		tried = append(tried, p)
	}
	if p, err := exec.LookPath(PluginName); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		return p, nil
	}
	tried = append(tried, "$PATH")
	return "", fmt.Errorf("%w (looked in %s); build it with `go build ./cmd/%s` or pass --plugin PATH",
		ErrPluginNotFound, strings.Join(tried, ", "), PluginName)
}

// PluginBesideExecutable returns the path of the plugin in the directory of
// the running executable (symlinks resolved), and whether an executable file
// is there. The path is empty when the executable cannot be found.
func PluginBesideExecutable() (string, bool) {
	exe, err := os.Executable()
	if err != nil {
		return "", false
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	p := filepath.Join(filepath.Dir(exe), PluginName)
	return p, CheckPluginPath(p) == nil
}

// CheckPluginPath returns an error naming path when it is not an executable
// regular file.
func CheckPluginPath(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("server: plugin %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("server: plugin %s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("server: plugin %s is not executable", path)
	}
	return nil
}

// ParseChecksum decodes a hex SHA-256 (64 hex digits, case-insensitive).
func ParseChecksum(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("server: plugin checksum %q is not a SHA-256 of 64 hex digits", s)
	}
	return b, nil
}
