package rego

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/internal/config"
)

// baseEnv is a valid environment: the required variables only.
var baseEnv = config.RequiredEnv("https://auth.pingone.example/env/as/authorize",
	"https://auth.pingone.example/env/as/token", "client", "secret")

// policyCase is one entry of testdata/policy/cases.json.
type policyCase struct {
	Name  string            `json:"name"`
	Env   map[string]string `json:"env"`
	Input json.RawMessage   `json:"input"`
	Want  sso.Decision      `json:"want"`
}

func loadCases(t testing.TB) []policyCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "policy", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []policyCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func loadDirectory(t testing.TB) *sso.Directory {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "policy", "directory.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir, err := DecodeDirectory(f)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func loadConfig(t testing.TB, env map[string]string) *config.Config {
	t.Helper()
	environ := append([]string(nil), baseEnv...)
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	cfg, _, err := config.Load(environ)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCases runs every case of testdata/policy/cases.json through an Engine
// built from the case's environment.
func TestCases(t *testing.T) {
	ctx := context.Background()
	dir := loadDirectory(t)
	for _, c := range loadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			e, err := New(ctx, loadConfig(t, c.Env))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.SetDirectory(ctx, dir); err != nil {
				t.Fatal(err)
			}
			in, err := DecodeInput(strings.NewReader(string(c.Input)))
			if err != nil {
				t.Fatal(err)
			}
			got, perr, err := e.DecideDetail(ctx, in)
			if err != nil || perr != nil {
				t.Fatalf("DecideDetail: %v, %v", perr, err)
			}
			if !reflect.DeepEqual(*got, c.Want) {
				t.Errorf("decision\n got %s\nwant %s", jsonString(got), jsonString(c.Want))
			}
			assertExplained(t, got)
		})
	}
}

// assertExplained checks the rules every decision follows.
func assertExplained(t *testing.T, d *sso.Decision) {
	t.Helper()
	if len(d.Reasons) == 0 {
		t.Error("decision without reasons")
	}
	if !d.Allow {
		deny := false
		for _, r := range d.Reasons {
			deny = deny || strings.HasPrefix(r, "deny:") || r == sso.ReasonPolicyError
		}
		if !deny {
			t.Errorf("deny without a deny reason: %v", d.Reasons)
		}
		if d.Signup || d.Company != "" || d.Role != nil || d.SyncGroups || d.Groups == nil || len(d.Groups) > 0 {
			t.Errorf("deny of the wrong shape: %s", jsonString(d))
		}
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
