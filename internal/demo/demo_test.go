package demo

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/internal/config"
	"github.com/pingauthz/pingauthz/internal/pingemu"
)

func TestRequireLoopback(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"127.0.0.2:0", true},
		{"[::1]:8080", true},
		{"localhost:8080", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"192.168.1.10:8080", false},
		{"example.com:8080", false},
		{"127.0.0.1", false}, // no port
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := RequireLoopback("--listen", tt.addr)
			if (err == nil) != tt.ok {
				t.Fatalf("RequireLoopback(%q) = %v, want ok=%v", tt.addr, err, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "--listen") {
				t.Errorf("error %q does not name the flag", err)
			}
		})
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []Options{
		{Listen: "0.0.0.0:0", Dir: dir},
		{Listen: "127.0.0.1:0", IdPListen: ":0", Dir: dir},
	} {
		_, err := Start(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("Start(%+v) = %v, want a loopback error", o, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Start left %d files in %s", len(entries), dir)
	}
}

func TestPluginForMissingPath(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := PluginFor(context.Background(), missing, t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("PluginFor(%q) = %v, want an error naming the path", missing, err)
	}
}

func TestEnvIsAValidConfig(t *testing.T) {
	idp, err := pingemu.Start(pingemu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer idp.Close()
	cfg, warnings, err := config.Load(Env(idp, "a-secret"))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %v", warnings)
	}
	want := config.Default()
	want.AuthorizeURL, want.AccessTokenURL = idp.AuthorizeURL(), idp.TokenURL()
	want.CodeChallenge = true
	want.Groups.Enabled = true
	want.Groups.Admins = []string{AdminGroup}
	want.Groups.ProhibitUserSignupIfNotInGroup = true
	want.ClientID, want.ClientSecret, want.DefaultCompany = ClientID, "a-secret", CompanyID
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("config\n got %+v\nwant %+v", *cfg, want)
	}
}

func TestWithoutClearML(t *testing.T) {
	in := []string{"PATH=/bin", "CLEARML__services__x=1", "clearml__secure__y=2", "HOME=/root", "CLEARMLX=3"}
	want := []string{"PATH=/bin", "HOME=/root", "CLEARMLX=3"}
	if got := withoutClearML(in); !slices.Equal(got, want) {
		t.Errorf("withoutClearML = %q, want %q", got, want)
	}
}

// TestUsersFile keeps testdata/demo/users.yaml equal to DefaultUsers.
func TestUsersFile(t *testing.T) {
	users, err := pingemu.LoadUsers(filepath.Join("..", "..", "testdata", "demo", "users.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := DefaultUsers(); !reflect.DeepEqual(users, want) {
		t.Errorf("users file\n got %+v\nwant %+v", users, want)
	}
}

// TestExtendUsersFile keeps testdata/demo/extend-users.yaml loadable: each
// account has an email and at least one group.
func TestExtendUsersFile(t *testing.T) {
	users, err := pingemu.LoadUsers(filepath.Join("..", "..", "testdata", "demo", "extend-users.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 4 {
		t.Fatalf("%d users, want 4", len(users))
	}
	for _, u := range users {
		if email, _ := u.Claims["email"].(string); email == "" || u.Claims["email_verified"] != true || len(u.Groups) == 0 {
			t.Errorf("user %+v", u)
		}
	}
}

func TestPrintAccounts(t *testing.T) {
	var b strings.Builder
	expected := map[string]string{Admin: "admin in ML Team", Member: "user in ML Team", Outsider: "denied: no group"}
	if err := PrintAccounts(&b, DefaultUsers(), expected); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"FIRST LOGIN", "alice", "alice-demo", "ClearML-Admins, ML Team", "admin in ML Team",
		"bob", "bob-demo", "user in ML Team",
		"carol", "carol-demo", "denied: no group",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Errorf("%d lines, want a header and 3 accounts:\n%s", len(lines), out)
	}
}

func TestFindUser(t *testing.T) {
	users := DefaultUsers()
	if u, ok := FindUser(users, Member); !ok || u.Username != Member {
		t.Errorf("FindUser(%q) = %+v, %v", Member, u, ok)
	}
	if _, ok := FindUser(users, "mallory"); ok {
		t.Error("FindUser found mallory")
	}
}

// TestStartFailureRemovesTempDir fails Start after it made its temporary
// directory and checks that nothing is left.
func TestStartFailureRemovesTempDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	missing := filepath.Join(t.TempDir(), "no-plugin")
	_, err := Start(context.Background(), Options{Listen: "127.0.0.1:0", PluginPath: missing})
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("Start = %v, want an error naming %s", err, missing)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("Start left %v in the temporary directory", entries)
	}
}
