package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/server"
)

// readEnvFile reads a testdata/env fixture: NAME=value lines, # comments.
func readEnvFile(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "env", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var env []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.Contains(line, "=") {
			t.Fatalf("%s: line %q is not NAME=value", name, line)
		}
		env = append(env, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

func TestServeUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--db is required"},
		{[]string{"--db", db, "extra"}, `unexpected argument "extra"`},
		{[]string{"--db", db, "--listen", "8080"}, "--listen"},
		{[]string{"--db", db, "--listen", ":8080"}, "--public-url is required"},
		{[]string{"--db", db, "--listen", "0.0.0.0:8080"}, "--public-url is required"},
		{[]string{"--db", db, "--public-url", "ftp://x"}, "--public-url"},
		{[]string{"--db", db, "--public-url", "https://x.example/app"}, "no path"},
		{[]string{"--db", db, "--directory-poll", "-1s"}, "negative"},
		{[]string{"--db", db, "--session-ttl", "0s"}, "--session-ttl"},
		{[]string{"--db", db, "--log-level", "loud"}, "--log-level"},
		{[]string{"--db", db, "--bogus"}, "flag provided but not defined"},
		{[]string{"--db", db, "--rate-limit", "fast"}, `--rate-limit "fast"`},
		{[]string{"--db", db, "--public-url", "http://ml.example.com"}, "--insecure-http"},
		{[]string{"--db", db, "--listen", "10.0.0.5:8080"}, "--insecure-http"},
		{[]string{"--db", db, "--session-idle", "-1m"}, "--session-idle"},
		{[]string{"--db", db, "--rate-limit", "60/min", "--trusted-proxies", "lb"}, `--trusted-proxies "lb"`},
	} {
		name := strings.ReplaceAll(strings.Join(tc.args, " "), db, "DB")
		t.Run(name, func(t *testing.T) {
			code, _, stderr := cli(t, baseEnv, "", append([]string{"serve"}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d (want 2), stderr %q (want %q)", code, stderr, tc.want)
			}
		})
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a usage error created the database: %v", err)
	}
	code, stdout, _ := cli(t, baseEnv, "", "serve", "-h")
	if code != 0 || !strings.Contains(stdout, "-plugin-sha256") || !strings.Contains(stdout, "/callback_ping") {
		t.Errorf("serve -h: exit %d, stdout %q", code, stdout)
	}
}

func TestServePublicURLSchemes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--public-url", "https://ml.example.com"}, true},
		{[]string{"--public-url", "http://localhost:8080"}, true},
		{[]string{"--listen", "[::1]:8080"}, true},
		{[]string{"--public-url", "http://ml.example.com", "--insecure-http"}, true},
		{[]string{"--listen", "10.0.0.5:8080", "--insecure-http"}, true},
		{[]string{"--public-url", "http://ml.example.com"}, false},
		{[]string{"--listen", "0.0.0.0:8080", "--public-url", "http://10.0.0.5:8080"}, false},
	} {
		_, err := parseServeFlags(append([]string{"--db", "x.db"}, tc.args...), &cliEnv{stdout: io.Discard, stderr: io.Discard})
		if (err == nil) != tc.ok {
			t.Errorf("%q: error %v, want ok=%v", tc.args, err, tc.ok)
		}
	}
}

// TestServeChecksConfigFirst gives serve a taken port and a missing plugin
// as well as a missing variable: the variable is what it reports, so it
// checked the configuration before listening or launching anything.
func TestServeChecksConfigFirst(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	db := filepath.Join(t.TempDir(), "x.db")
	secret := config.VarName("client_secret", true)
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"fixture without the secret", readEnvFile(t, "missing-secret.env"), []string{secret}},
		{"empty environment", nil, []string{
			secret, config.VarName("client_id", true),
			config.VarName("authorize_url", false), config.VarName("access_token_url", false),
		}},
		{"malformed value", append(readEnvFile(t, "pingone.env"), config.VarName("groups__enabled", false)+"=maybe"),
			[]string{config.VarName("groups__enabled", false)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, tc.env, "", "serve", "--listen", ln.Addr().String(), "--db", db,
				"--plugin", filepath.Join(t.TempDir(), "missing-plugin"))
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			for _, v := range tc.want {
				if !strings.Contains(stderr, v) {
					t.Errorf("stderr does not name %s:\n%s", v, stderr)
				}
			}
			if strings.Contains(stderr, "address already in use") || strings.Contains(stderr, "missing-plugin") || stdout != "" {
				t.Errorf("serve went past the configuration check:\nstdout %q\nstderr %q", stdout, stderr)
			}
			if strings.Contains(stderr, "fixture-secret") {
				t.Error("the client secret was printed")
			}
		})
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the database was created: %v", err)
	}
}

// TestServeValidFixtures runs serve on each valid fixture with a missing
// plugin: the configuration passes (warnings are printed) and serve stops
// at the plugin, before listening or creating the database.
func TestServeValidFixtures(t *testing.T) {
	for _, tc := range []struct {
		file, warning string
	}{
		{"pingone.env", ""},
		{"pingfederate.env", ""},
		{"quoted.env", ""},
		{"typo.env", config.VarName("groups__admin", false)},
	} {
		t.Run(tc.file, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "x.db")
			plugin := filepath.Join(t.TempDir(), "missing-plugin")
			code, _, stderr := cli(t, readEnvFile(t, tc.file), "", "serve", "--listen", "127.0.0.1:0", "--db", db, "--plugin", plugin)
			if code != 1 || !strings.Contains(stderr, plugin) || strings.Contains(stderr, "invalid Ping configuration") {
				t.Errorf("exit %d, want 1 for the missing plugin; stderr:\n%s", code, stderr)
			}
			if tc.warning != "" && !strings.Contains(stderr, "warning: "+tc.warning) {
				t.Errorf("no warning about %s:\n%s", tc.warning, stderr)
			}
			if tc.warning == "" && strings.Contains(stderr, "warning") {
				t.Errorf("unexpected warning:\n%s", stderr)
			}
			if _, err := os.Stat(db); !os.IsNotExist(err) {
				t.Errorf("the database was created: %v", err)
			}
		})
	}
}

// TestQuotedFixtureMatches keeps quoted.env the quoted twin of pingone.env.
func TestQuotedFixtureMatches(t *testing.T) {
	plain, _, err := config.Load(readEnvFile(t, "pingone.env"))
	if err != nil {
		t.Fatal(err)
	}
	quoted, _, err := config.Load(readEnvFile(t, "quoted.env"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plain, quoted) {
		t.Errorf("quoted.env differs from pingone.env:\n%+v\n%+v", quoted, plain)
	}
}

func TestServeBadChecksum(t *testing.T) {
	plugin := filepath.Join(t.TempDir(), "pingauthz-plugin")
	if err := os.WriteFile(plugin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "x.db")
	code, _, stderr := cli(t, baseEnv, "", "serve", "--listen", "127.0.0.1:0", "--db", db, "--plugin", plugin, "--plugin-sha256", "abc")
	if code != 2 || !strings.Contains(stderr, "--plugin-sha256") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the database was created: %v", err)
	}
}

// TestServeWarnsWithoutChecksum runs serve with a plugin that fails at once:
// without --plugin-sha256 it warns, naming the resolved file and its
// SHA-256; with it, it does not.
func TestServeWarnsWithoutChecksum(t *testing.T) {
	dir := t.TempDir()
	plugin := filepath.Join(dir, "pingauthz-plugin")
	if err := os.WriteFile(plugin, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sum, err := server.FileChecksum(plugin)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	args := []string{"serve", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "x.db"), "--plugin", "pingauthz-plugin"}
	_, _, stderr := cli(t, baseEnv, "", args...)
	if !strings.Contains(stderr, "warning: no --plugin-sha256") || !strings.Contains(stderr, plugin) || !strings.Contains(stderr, sum) {
		t.Errorf("no warning naming %s and %s:\n%s", plugin, sum, stderr)
	}
	_, _, stderr = cli(t, baseEnv, "", append(args, "--plugin-sha256", sum)...)
	if strings.Contains(stderr, "warning") {
		t.Errorf("a warning with --plugin-sha256:\n%s", stderr)
	}
}

// TestServePluginStartError runs serve with a plugin that exits with an
// error: serve prints the plugin's line, not go-plugin's handshake text,
// and exits 2.
func TestServePluginStartError(t *testing.T) {
	dir := t.TempDir()
	plugin := filepath.Join(dir, "pingauthz-plugin")
	body := "#!/bin/sh\necho '{\"@level\":\"error\",\"@message\":\"cannot start the provider\",\"error\":\"policy.rego:3: rego_parse_error: unexpected eof\"}' >&2\nexit 1\n"
	if err := os.WriteFile(plugin, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := cli(t, baseEnv, "", "serve", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "x.db"), "--plugin", plugin)
	want := "pingauthz: the plugin " + plugin + " did not start: cannot start the provider: policy.rego:3: rego_parse_error: unexpected eof\n"
	if code != 2 || !strings.HasSuffix(stderr, want) {
		t.Errorf("exit %d (want 2), stderr ends %q; stderr:\n%s", code, want, stderr)
	}
	if strings.Contains(stderr, "Unrecognized remote plugin message") {
		t.Errorf("serve printed go-plugin's handshake text:\n%s", stderr)
	}
}
