package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
)

func TestConfigCheckValid(t *testing.T) {
	env := append([]string{config.VarName("groups__enabled", false) + "=true",
		config.VarName("grups__claim", false) + "=x"}, baseEnv...)
	code, stdout, stderr := cli(t, env, "", "config", "check")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	for _, want := range []string{"client_secret = ****\n", "groups.enabled = true\n", "client_id = client-id\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout+stderr, "very-secret-value") {
		t.Error("the client secret was printed")
	}
	if !strings.Contains(stderr, "warning: "+config.VarName("grups__claim", false)) || !strings.Contains(stderr, "compiles") {
		t.Errorf("stderr lacks the warning or the policy line:\n%s", stderr)
	}

	code, stdout, _ = cli(t, baseEnv, "", "config", "check", "--json")
	var summary map[string]string
	if err := json.Unmarshal([]byte(stdout), &summary); code != 0 || err != nil || summary["client_secret"] != "****" {
		t.Errorf("--json: exit %d, %v, %v", code, err, summary)
	}
}

func TestConfigCheckInvalid(t *testing.T) {
	env := []string{
		config.VarName("groups__enabled", false) + "=maybe",
		config.VarName("client_secret", true) + "=s",
	}
	code, stdout, stderr := cli(t, env, "", "config", "check")
	if code != 2 || stdout != "" {
		t.Fatalf("exit %d, stdout %q", code, stdout)
	}
	for _, key := range []struct {
		name   string
		secure bool
	}{{"groups__enabled", false}, {"authorize_url", false}, {"access_token_url", false}, {"client_id", true}} {
		if !strings.Contains(stderr, config.VarName(key.name, key.secure)+": ") {
			t.Errorf("stderr does not name %s:\n%s", key.name, stderr)
		}
	}
	if !strings.Contains(stderr, "4 problems") {
		t.Errorf("stderr lacks the count:\n%s", stderr)
	}
}

func TestConfigCheckBadPolicy(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "overrides", "syntax_error"))
	env := append([]string{config.VarName("policy__dir", false) + "=" + dir}, baseEnv...)
	code, _, stderr := cli(t, env, "", "config", "check")
	if code != 2 || !strings.Contains(stderr, filepath.Join(dir, "decision.rego")+":") {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
}

func TestConfigCheckWithheldBuiltin(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "overrides", "runtime"))
	env := append([]string{config.VarName("policy__dir", false) + "=" + dir}, baseEnv...)
	code, _, stderr := cli(t, env, "", "config", "check")
	if code != 2 || !strings.Contains(stderr, filepath.Join(dir, "runtime.rego")+":5: rego_compile_error: opa.runtime is withheld") {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
	env = append(env, config.VarName("policy__insecure_builtins", false)+`=["opa.runtime"]`)
	if code, _, stderr := cli(t, env, "", "config", "check"); code != 0 {
		t.Errorf("opted in: exit %d, stderr %s", code, stderr)
	}
}
