package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoUsage(t *testing.T) {
	badUsers := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(badUsers, []byte("users:\n  - username: x\n    pasword: y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--listen", "0.0.0.0:8080"}, 2, "--listen"},
		{[]string{"--listen", ":8080"}, 2, "not a loopback address"},
		{[]string{"--idp-listen", "192.0.2.1:0"}, 2, "--idp-listen"},
		{[]string{"--log-level", "loud"}, 2, "--log-level"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
		{[]string{"--users", filepath.Join(t.TempDir(), "none.yaml")}, 1, "none.yaml"},
		{[]string{"--users", badUsers}, 1, badUsers},
		{[]string{"--plugin", filepath.Join(t.TempDir(), "no-plugin"), "--listen", "127.0.0.1:0"}, 1, "no-plugin"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := cli(t, nil, "", append([]string{"demo"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Errorf("exit %d (want %d), stderr %q (want %q), stdout %q", code, tc.code, stderr, tc.want, stdout)
			}
		})
	}
	for _, h := range []string{"-h", "--help"} {
		code, stdout, stderr := cli(t, nil, "", "demo", h)
		if code != 0 || !strings.Contains(stdout, "-idp-listen") || !strings.Contains(stdout, "policy__dir") || stderr != "" {
			t.Errorf("demo %s: exit %d, stdout %q, stderr %q", h, code, stdout, stderr)
		}
	}
}
