package host

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/plugin/ping"
)

// script writes an executable shell script standing in for the plugin.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pingauthz-plugin")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// startError starts cfg, which must fail with a StartError, and returns it.
func startError(t *testing.T, cfg Config) *StartError {
	t.Helper()
	logger, _ := testLogger(t)
	cfg.Logger = logger
	cfg.SkipHostEnv = true
	_, err := startOrClose(t, cfg)
	var se *StartError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T), want a *StartError", err, err)
	}
	if strings.Contains(err.Error(), "Unrecognized remote plugin message") {
		t.Errorf("the error repeats go-plugin's handshake text: %v", err)
	}
	if !strings.Contains(err.Error(), cfg.PluginPath) && !strings.Contains(err.Error(), se.Path) {
		t.Errorf("the error does not name the plugin: %v", err)
	}
	return se
}

// TestStartErrorOverrideDoesNotCompile starts the real plugin with an
// override policy that does not parse: Start's error is the plugin's own
// line with the file and line of the parse error.
func TestStartErrorOverrideDoesNotCompile(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "overrides", "syntax_error"))
	if err != nil {
		t.Fatal(err)
	}
	env := append(emulatorEnv(t), ping.EnvName("policy__dir")+"="+dir)
	se := startError(t, Config{PluginPath: pluginBinary(t), Env: env})
	want := filepath.Join(dir, "decision.rego") + ":5: rego_parse_error"
	if !strings.Contains(se.Line, want) || !strings.HasPrefix(se.Line, "cannot start the provider: ") {
		t.Fatalf("line %q, want the plugin's error naming %s", se.Line, want)
	}
	if se.Exit != "exit status 1" {
		t.Errorf("exit %q, want exit status 1", se.Exit)
	}
}

func TestStartErrorFromAFailingBinary(t *testing.T) {
	tests := []struct {
		name, body string
		line       string
		more       int
		reason     string
	}{
		{
			name:   "plain stderr",
			body:   "echo 'cannot read /etc/pingauthz/key: permission denied' >&2\nexit 3\n",
			line:   "cannot read /etc/pingauthz/key: permission denied",
			reason: "cannot read /etc/pingauthz/key: permission denied",
		},
		{
			name: "JSON log entries",
			body: `echo '{"@level":"info","@message":"starting","@module":"p"}' >&2
echo '{"@level":"error","@message":"cannot open the database","@module":"p","error":"disk full","path":"/var/db x"}' >&2
echo '{"@level":"error","@message":"giving up","@module":"p"}' >&2
exit 1
`,
			line:   `cannot open the database: disk full path="/var/db x"`,
			more:   1,
			reason: "(and 1 more error line(s) in the log)",
		},
		{
			name:   "JSON error wins over plain lines before it",
			body:   "echo 'starting up' >&2\necho '{\"@level\":\"error\",\"@message\":\"no key\"}' >&2\nexit 1\n",
			line:   "no key",
			reason: "no key",
		},
		{
			name:   "silent exit",
			body:   "exit 4\n",
			reason: "it ended (exit status 4) before the handshake and logged no error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			se := startError(t, Config{PluginPath: script(t, tt.body)})
			if se.Line != tt.line || se.MoreLines != tt.more {
				t.Fatalf("line %q with %d more, want %q with %d", se.Line, se.MoreLines, tt.line, tt.more)
			}
			if !strings.Contains(se.Reason(), tt.reason) {
				t.Fatalf("reason %q, want %q", se.Reason(), tt.reason)
			}
		})
	}
}

func TestStderrLinesInPieces(t *testing.T) {
	var s stderrLines
	entry := `{"@level":"error","@message":"bad","error":"line one\nline two","n":3}`
	for _, piece := range []string{"plain ", "first\n", entry[:10], entry[10:], "\n", `{"@level":"error","@message":"later"}`} {
		if _, err := s.Write([]byte(piece)); err != nil {
			t.Fatal(err)
		}
	}
	line, more := s.stop()
	if want := "bad: line one\nline two n=3"; line != want || more != 1 {
		t.Fatalf("stop = %q, %d; want %q, 1", line, more, want)
	}
	if _, err := s.Write([]byte(`{"@level":"error","@message":"after stop"}` + "\n")); err != nil {
		t.Fatal(err)
	}
	if line2, more2 := s.stop(); line2 != line || more2 != 1 {
		t.Fatalf("lines written after stop were read: %q, %d", line2, more2)
	}
}
