package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
)

// baseEnv is a valid environment: the required variables only.
var baseEnv = config.RequiredEnv("https://auth.pingone.example/env/as/authorize",
	"https://auth.pingone.example/env/as/token", "client-id", "very-secret-value")

// cli runs one command line in-process.
func cli(t *testing.T, environ []string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, environ, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestDispatch(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{nil, 2, "", "want a command"},
		{[]string{"nope"}, 2, "", `unknown command "nope"`},
		{[]string{"help"}, 0, "policy", ""},
		{[]string{"--help"}, 0, "config", ""},
		{[]string{"policy"}, 2, "", "want a command: render, eval, test or bundle"},
		{[]string{"policy", "fly"}, 2, "", `unknown command "fly"`},
		{[]string{"policy", "-h"}, 0, "render [--out DIR]", ""},
		{[]string{"config"}, 2, "", "want the subcommand check"},
		{[]string{"config", "-h"}, 0, "Usage: pingauthz config check", ""},
		{[]string{"config", "check", "-h"}, 0, "-json", ""},
		{[]string{"config", "nope"}, 2, "", "Usage: pingauthz config check"},
		{[]string{"config", "check", "--bogus"}, 2, "", "flag provided but not defined"},
		{[]string{"policy", "eval", "-h"}, 0, "--directory FILE", ""},
		{[]string{"policy", "eval", "--bogus"}, 2, "", "--directory FILE"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := cli(t, baseEnv, "", tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", code, tc.code, stdout, tc.stdout, stderr, tc.stderr)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		out  string
	}{
		{nil, 0, ""},
		{errors.New("boom"), 1, "pingauthz: boom\n"},
		{usageErr("bad %s", "flag"), 2, "pingauthz: bad flag\n"},
		{&exitError{code: 1}, 1, ""},
		{errors.New("pingauthz: prefixed"), 1, "pingauthz: prefixed\n"},
	} {
		var buf bytes.Buffer
		if code := exitCode(tc.err, &buf); code != tc.code || buf.String() != tc.out {
			t.Errorf("exitCode(%v) = %d, %q; want %d, %q", tc.err, code, buf.String(), tc.code, tc.out)
		}
	}
}
