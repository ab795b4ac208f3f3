package e2e_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pingauthz/pingauthz/internal/demo"
)

// chromiumPath is Debian's Chromium, which CI installs.
const chromiumPath = "/usr/bin/chromium"

// Environment switches of the browser test.
const (
	// requireBrowserEnv=1 makes a missing Chromium a failure, not a skip.
	requireBrowserEnv = "PINGAUTHZ_REQUIRE_BROWSER"
	// screenshotDirEnv names a directory for the screenshot; default t.TempDir().
	screenshotDirEnv = "PINGAUTHZ_SCREENSHOT_DIR"
)

// newBrowserAllocator starts a headless Chromium that reaches nothing but
// loopback: no sync, component updates, metrics, first-run or default
// browser checks, and every host name but 127.0.0.1 unresolvable.
func newBrowserAllocator(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv(requireBrowserEnv) == "1" {
			t.Fatalf("%s is required (%s=1) but missing: %v", chromiumPath, requireBrowserEnv, err)
		}
		t.Skipf("%s is not installed; set %s=1 to make this a failure", chromiumPath, requireBrowserEnv)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,CertificateTransparencyComponentUpdater"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	return bctx
}

// browserLogin logs username in through the home page and the emulator's
// form in a fresh browser context (no cookies) and leaves the tab on the
// page the login ended at.
func browserLogin(t *testing.T, browserCtx context.Context, d *demo.Demo, username string) context.Context {
	t.Helper()
	u, ok := demo.FindUser(d.Users, username)
	if !ok {
		t.Fatalf("no demo user %q", username)
	}
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate(d.URL+"/")); err != nil {
		t.Fatal(err)
	}
	// Log in with Ping -> the emulator's login form.
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("login"))); err != nil {
		t.Fatalf("clicking the login link: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), u.Username),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), u.Password),
	); err != nil {
		t.Fatalf("filling the login form: %v", err)
	}
	// Sign in -> callback -> the home page or a deny page.
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("signin"))); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	return ctx
}

// textOf returns the text of the element with the id.
func textOf(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("reading #%s at %s: %v\n%s", id, loc, err, html)
	}
	return strings.TrimSpace(s)
}

// groupsOf returns the group names the home page lists.
func groupsOf(t *testing.T, ctx context.Context) []string {
	t.Helper()
	groups, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#groups li"), li => li.textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	return groups
}

// TestBrowserLogin clicks through the login of every demo user in Chromium
// and checks what the pages show, then demotes the administrator at the
// provider and logs in again.
func TestBrowserLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is skipped in -short mode")
	}
	bctx := newBrowserAllocator(t)
	d := startDemo(t, demo.Options{})

	t.Run("admin", func(t *testing.T) {
		ctx := browserLogin(t, bctx, d, demo.Admin)
		if got := textOf(t, ctx, "role"); got != "admin" {
			t.Errorf("role %q, want admin", got)
		}
		if got := textOf(t, ctx, "email"); got != demo.Admin+"@example.com" {
			t.Errorf("email %q", got)
		}
		if got := textOf(t, ctx, "company"); got != demo.CompanyID {
			t.Errorf("company %q, want %s", got, demo.CompanyID)
		}
		if got := groupsOf(t, ctx); strings.Join(got, ",") != demo.TeamGroup {
			t.Errorf("groups %q, want [%s]", got, demo.TeamGroup)
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		dir := os.Getenv(screenshotDirEnv)
		if dir == "" {
			dir = t.TempDir()
		}
		path := filepath.Join(dir, "home-admin.png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		if len(png) < 1000 {
			t.Errorf("screenshot %s has only %d bytes", path, len(png))
		}
		t.Logf("screenshot: %s (%d bytes)", path, len(png))
	})

	t.Run("team member", func(t *testing.T) {
		ctx := browserLogin(t, bctx, d, demo.Member)
		if got := textOf(t, ctx, "role"); got != "user" {
			t.Errorf("role %q, want user", got)
		}
		if got := groupsOf(t, ctx); strings.Join(got, ",") != demo.TeamGroup {
			t.Errorf("groups %q, want [%s]", got, demo.TeamGroup)
		}
	})

	t.Run("outsider is denied", func(t *testing.T) {
		ctx := browserLogin(t, bctx, d, demo.Outsider)
		if got := textOf(t, ctx, "error"); !strings.Contains(got, "not allowed") {
			t.Errorf("error %q, want a deny message", got)
		}
		if got := textOf(t, ctx, "reasons"); !strings.Contains(got, "deny:not_in_group") {
			t.Errorf("reasons %q, want deny:not_in_group", got)
		}
	})

	t.Run("admin demoted", func(t *testing.T) {
		if err := d.IdP.SetUserGroups(demo.Admin, []string{demo.TeamGroup}); err != nil {
			t.Fatal(err)
		}
		ctx := browserLogin(t, bctx, d, demo.Admin)
		if got := textOf(t, ctx, "role"); got != "user" {
			t.Errorf("role %q after losing the admin group, want user", got)
		}
	})
}
