package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// PluginName is the file name of the plugin binary.
const PluginName = "pingauthz-plugin"

// ErrPluginNotFound is matched when the directory of the running executable
// holds no plugin.
var ErrPluginNotFound = errors.New("server: plugin binary " + PluginName + " not found")

// LocatePlugin returns the plugin binary next to the running executable
// (symlinks resolved). It never searches PATH, and it does not check that
// the file is a plugin.
func LocatePlugin() (string, error) {
	p, ok := PluginBesideExecutable()
	if ok {
		return p, nil
	}
	where := "next to this executable"
	if p != "" {
		where = p
	}
	return "", fmt.Errorf("%w (looked for %s); build it with `go build ./cmd/%s` or pass --plugin PATH",
		ErrPluginNotFound, where, PluginName)
}

// ResolvePlugin returns the plugin binary to run, once and for all: path
// made absolute (a bare name is a file in the working directory, never one
// on PATH) with symlinks resolved, or LocatePlugin's when path is empty. The
// file must be an executable regular file.
func ResolvePlugin(path string) (string, error) {
	if path == "" {
		return LocatePlugin()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("server: plugin %s: %w", path, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("server: plugin %s: %w", abs, err)
	}
	if err := CheckPluginPath(real); err != nil {
		return "", err
	}
	return real, nil
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
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
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

// FileChecksum returns the hex SHA-256 of the file at path.
func FileChecksum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("server: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("server: reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
