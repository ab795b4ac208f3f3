package e2e_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/demo"
)

// stateCookie returns the login state cookie b holds for the callback path.
func (b *browser) stateCookie() *http.Cookie {
	u, _ := url.Parse(b.d.URL + host.CallbackPath)
	for _, c := range b.hc.Jar.Cookies(u) {
		if strings.Contains(c.Name, "login") {
			return c
		}
	}
	return nil
}

// setStateCookie puts a login state cookie into b's jar.
func (b *browser) setStateCookie(c *http.Cookie) {
	u, _ := url.Parse(b.d.URL + host.CallbackPath)
	b.hc.Jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: host.CallbackPath}})
}

// wantRejected fails unless p is an error page with the status.
func wantRejected(t *testing.T, p *page, status int) {
	t.Helper()
	if p.status != status || !strings.Contains(p.body, `id="error"`) {
		t.Fatalf("callback status %d, want %d with an error message:\n%s", p.status, status, p.body)
	}
}

// TestBadCallbacks sends callbacks a browser must not be able to complete
// and checks that each is refused and leaves the database as it was.
func TestBadCallbacks(t *testing.T) {
	engines(t, func(t *testing.T, db string) {
		d := startDemo(t, demo.Options{DBPath: db})
		newBrowser(t, d).mustLogin(demo.Admin) // a user and a session exist

		tests := []struct {
			name   string
			status int
			// run returns the callback's response.
			run func(t *testing.T) *page
		}{
			{"no state cookie", http.StatusBadRequest, func(t *testing.T) *page {
				a := newBrowser(t, d)
				authURL := a.mustBegin("")
				cb := a.mustSignIn(authURL, demo.Member)
				return newBrowser(t, d).mustGet(cb)
			}},
			{"another browser's state", http.StatusBadRequest, func(t *testing.T) *page {
				a, b := newBrowser(t, d), newBrowser(t, d)
				authA := a.mustBegin("")
				b.mustBegin("")
				cb := a.mustSignIn(authA, demo.Member)
				return b.mustGet(cb)
			}},
			{"tampered state cookie", http.StatusBadRequest, func(t *testing.T) *page {
				a := newBrowser(t, d)
				authURL := a.mustBegin("/projects")
				c := a.stateCookie()
				if c == nil {
					t.Fatal("no login state cookie after /login/ping")
				}
				// Flip one character in the middle of the sealed state.
				v := []byte(c.Value)
				i := len(v) / 2
				if v[i] == 'A' {
					v[i] = 'B'
				} else {
					v[i] = 'A'
				}
				c.Value = string(v)
				a.setStateCookie(c)
				cb := a.mustSignIn(authURL, demo.Member)
				return a.mustGet(cb)
			}},
			{"error from the provider", http.StatusBadRequest, func(t *testing.T) *page {
				a := newBrowser(t, d)
				return a.callbackWith(a.mustBegin(""), "error=access_denied&error_description=no")
			}},
			{"forged code", http.StatusBadRequest, func(t *testing.T) *page {
				a := newBrowser(t, d)
				return a.callbackWith(a.mustBegin(""), "code=forged")
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := dump(t, d.DBPath)
				wantRejected(t, tt.run(t), tt.status)
				sameDump(t, before, dump(t, d.DBPath))
			})
		}

		t.Run("replayed callback", func(t *testing.T) {
			a := newBrowser(t, d)
			authURL := a.mustBegin("")
			c := a.stateCookie()
			cb := a.mustSignIn(authURL, demo.Member)
			if p := a.mustGet(cb); p.status != http.StatusSeeOther {
				t.Fatalf("first callback status %d:\n%s", p.status, p.body)
			}
			before := dump(t, d.DBPath)
			// Same browser (its state cookie is gone) and a browser holding a
			// copy of the spent state cookie.
			wantRejected(t, a.mustGet(cb), http.StatusBadRequest)
			thief := newBrowser(t, d)
			thief.setStateCookie(c)
			wantRejected(t, thief.mustGet(cb), http.StatusBadRequest)
			sameDump(t, before, dump(t, d.DBPath))
			if _, err := thief.me(); err == nil {
				t.Error("the replay got a session")
			}
		})

		t.Run("tampered return_to", func(t *testing.T) {
			a := newBrowser(t, d)
			want := a.mustLogin(demo.Admin)
			// Starting a login with a foreign return path writes nothing.
			before := dump(t, d.DBPath)
			for _, rt := range []string{"https://evil.example/steal", "//evil.example", "/./\\evil.example", "javascript:alert(1)"} {
				if _, err := a.begin(rt); err != nil {
					t.Fatal(err)
				}
			}
			sameDump(t, before, dump(t, d.DBPath))

			// A login started with one ends at "/", and a return_to added to
			// the callback is ignored. Both change nothing but the sessions
			// and the login time.
			before = withoutLoginTrace(dump(t, d.DBPath))
			p, err := a.login(demo.Admin, "https://evil.example/steal")
			if err != nil {
				t.Fatal(err)
			}
			if p.status != http.StatusSeeOther || p.location != "/" {
				t.Fatalf("callback status %d location %q, want 303 to /", p.status, p.location)
			}
			b := newBrowser(t, d)
			cb := b.mustSignIn(b.mustBegin("/projects"), demo.Admin)
			p = b.mustGet(cb + "&return_to=" + url.QueryEscape("https://evil.example/"))
			if p.status != http.StatusSeeOther || p.location != "/projects" {
				t.Fatalf("callback with an added return_to: status %d location %q, want 303 to /projects", p.status, p.location)
			}
			sameDump(t, before, withoutLoginTrace(dump(t, d.DBPath)))
			for _, br := range []*browser{a, b} {
				got, err := br.me()
				if err != nil {
					t.Fatal(err)
				}
				if got.ID != want.ID || got.Role != want.Role || strings.Join(got.Groups, ",") != strings.Join(want.Groups, ",") {
					t.Errorf("account %+v after the tampered login, want %+v", got, want)
				}
			}
		})
	})
}

// lastLogin matches the login time column of a dumped users row.
var lastLogin = regexp.MustCompile(`\blast_login=\S+`)

// withoutLoginTrace drops from a dump what every successful login writes:
// the sessions and the users' login times.
func withoutLoginTrace(d map[string][]string) map[string][]string {
	out := make(map[string][]string, len(d))
	for t, rows := range d {
		if t == "sessions" || t == "login_states" {
			continue
		}
		if t == "users" {
			rows = slices.Clone(rows)
			for i, r := range rows {
				rows[i] = lastLogin.ReplaceAllString(r, "")
			}
		}
		out[t] = rows
	}
	return out
}

// TestPluginDownAtCallback kills the plugin between the start of a login
// and its callback, with the binary gone so it cannot be restarted: the
// callback is a clear 503 that changes nothing, and once the binary is back
// the next login restarts the plugin and works.
func TestPluginDownAtCallback(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "pingauthz-plugin")
	copyFile(t, pluginBinary, bin)
	d := startDemo(t, demo.Options{PluginPath: bin})
	newBrowser(t, d).mustLogin(demo.Member)

	a := newBrowser(t, d)
	authURL := a.mustBegin("")
	cb := a.mustSignIn(authURL, demo.Admin)
	before := dump(t, d.DBPath)

	hidden := bin + ".away"
	if err := os.Rename(bin, hidden); err != nil {
		t.Fatal(err)
	}
	killPlugin(t, d)
	p := a.mustGet(cb)
	if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "unavailable") {
		t.Fatalf("callback with the plugin down: status %d, want 503 saying unavailable:\n%s", p.status, p.body)
	}
	sameDump(t, before, dump(t, d.DBPath))

	if err := os.Rename(hidden, bin); err != nil {
		t.Fatal(err)
	}
	// The restart may be held back briefly after the failed attempt; the
	// bound is generous for a loaded machine, a passing run takes
	// milliseconds.
	err := retry(time.Minute, func() error {
		_, err := newBrowser(t, d).begin("")
		return err
	})
	if err != nil {
		t.Fatalf("login after the plugin came back: %v", err)
	}
	acct := newBrowser(t, d).mustLogin(demo.Admin)
	if acct.Role != "admin" {
		t.Errorf("account %+v after the restart, want role admin", acct)
	}
	if n := d.Server.Plugin.Restarts(); n < 1 {
		t.Errorf("plugin restarts %d, want at least 1", n)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
