package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 1\n"), mode); err != nil {
		t.Fatal(err)
	}
}

func TestCheckPluginPath(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "exe")
	writeFile(t, exe, 0o755)
	plain := filepath.Join(dir, "plain")
	writeFile(t, plain, 0o644)
	tests := []struct {
		name, path, err string
	}{
		{"executable", exe, ""},
		{"not executable", plain, "not executable"},
		{"directory", dir, "not a regular file"},
		{"missing", filepath.Join(dir, "missing"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPluginPath(tt.path)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), tt.path) {
				t.Fatalf("CheckPluginPath = %v, want an error naming %s with %q", err, tt.path, tt.err)
			}
		})
	}
}

func TestLocatePluginNeverSearchesPath(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, PluginName), 0o755)
	t.Setenv("PATH", dir)
	_, err := LocatePlugin()
	if !errors.Is(err, ErrPluginNotFound) || !strings.Contains(err.Error(), "--plugin") {
		t.Fatalf("LocatePlugin with the plugin on PATH only = %v, want ErrPluginNotFound with a hint", err)
	}
}

func TestResolvePlugin(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "v1", PluginName)
	if err := os.Mkdir(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, real, 0o755)
	link := filepath.Join(dir, "current")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	onPath := t.TempDir()
	writeFile(t, filepath.Join(onPath, "elsewhere"), 0o755)
	t.Setenv("PATH", onPath)
	t.Chdir(dir)
	tests := []struct {
		name, path, want, err string
	}{
		{"absolute", real, real, ""},
		{"symlink resolved", link, real, ""},
		{"relative", filepath.Join("v1", PluginName), real, ""},
		{"bare name in the working directory", "current", real, ""},
		{"bare name only on PATH", "elsewhere", "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolvePlugin(tt.path)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ResolvePlugin(%q) = %q, %v; want an error with %q", tt.path, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ResolvePlugin(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
			}
		})
	}
	plain := filepath.Join(dir, "plain")
	writeFile(t, plain, 0o644)
	if _, err := ResolvePlugin(plain); err == nil || !strings.Contains(err.Error(), "not executable") {
		t.Fatalf("ResolvePlugin of a file without x bits = %v", err)
	}
}

func TestFileChecksum(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := FileChecksum(p)
	if want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; err != nil || got != want {
		t.Fatalf("FileChecksum = %q, %v; want %s", got, err, want)
	}
}

func TestParseChecksum(t *testing.T) {
	good := strings.Repeat("ab", 32)
	tests := []struct {
		in string
		ok bool
	}{
		{good, true},
		{strings.ToUpper(good), true},
		{" " + good + "\n", true},
		{good[:62], false},
		{good + "00", false},
		{strings.Repeat("zz", 32), false},
		{"", false},
	}
	for _, tt := range tests {
		b, err := ParseChecksum(tt.in)
		if (err == nil) != tt.ok || (tt.ok && len(b) != 32) {
			t.Errorf("ParseChecksum(%q) = %x, %v; want ok=%v", tt.in, b, err, tt.ok)
		}
	}
}

func TestOpenRequiresPaths(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no database", Config{PluginPath: "/bin/true"}, "DBPath"},
		{"no plugin", Config{DBPath: filepath.Join(dir, "a.db")}, "PluginPath"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open = %v, want an error naming %s", err, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "a.db")); !os.IsNotExist(err) {
		t.Errorf("Open created the database: %v", err)
	}
}

func TestOpenBadPluginLeavesNothingRunning(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, PluginName)
	writeFile(t, bad, 0o755) // exits at once without the handshake
	_, err := Open(context.Background(), Config{
		DBPath:     filepath.Join(dir, "a.db"),
		PluginPath: bad,
		PublicURL:  "http://127.0.0.1:1",
	})
	if err == nil || !strings.Contains(err.Error(), "starting the plugin") {
		t.Fatalf("Open = %v, want a plugin start error", err)
	}
}
