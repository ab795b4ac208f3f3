package e2e_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/sso"
)

// shownReason is one reason as a page shows it: the code and its sentence.
type shownReason struct {
	Code     string `json:"code"`
	Sentence string `json:"sentence"`
}

// reasonsIn returns the reasons listed under the element with the id.
func reasonsIn(t *testing.T, ctx context.Context, id string) []shownReason {
	t.Helper()
	rs, err := chromedp.Run(ctx, chromedp.Evaluate[[]shownReason](`Array.from(document.querySelectorAll("#`+id+` li"),
		li => ({code: li.dataset.code, sentence: li.querySelector(".sentence").textContent.trim()}))`))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// listIn returns the text of each item of the list with the id.
func listIn(t *testing.T, ctx context.Context, id string) []string {
	t.Helper()
	items, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#`+id+` li"), li => li.textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// TestBrowserPagesExplain signs in through Chromium and reads what the
// signed-in page and the denial page say: the company by name, the role
// and why, both kinds of groups, and for a denial the account and the
// reason as a sentence with its code.
func TestBrowserPagesExplain(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is skipped in -short mode")
	}
	bctx := newBrowserAllocator(t)
	d := startDemo(t, demo.Options{})

	t.Run("signed in", func(t *testing.T) {
		ctx := browserLogin(t, bctx, d, demo.Admin)
		for id, want := range map[string]string{
			"company-name":  demo.CompanyName,
			"company":       demo.CompanyID,
			"role":          sso.RoleAdmin,
			"role-reason":   sso.Sentence(sso.ReasonRoleAdminGroup),
			"login-reason":  sso.Sentence(sso.ReasonSignupDefaultCompany),
			"groups-reason": sso.Sentence(sso.ReasonGroupsSynced),
			"email":         demo.Admin + "@example.com",
		} {
			if got := textOf(t, ctx, id); got != want {
				t.Errorf("#%s = %q, want %q", id, got, want)
			}
		}
		if got := listIn(t, ctx, "groups"); !slices.Equal(got, []string{demo.TeamGroup}) {
			t.Errorf("ClearML groups %q, want [%s]", got, demo.TeamGroup)
		}
		if got := listIn(t, ctx, "ping-groups"); !slices.Equal(got, []string{demo.AdminGroup, demo.TeamGroup}) {
			t.Errorf("Ping groups %q, want [%s %s]", got, demo.AdminGroup, demo.TeamGroup)
		}
	})

	t.Run("denied", func(t *testing.T) {
		ctx := browserLogin(t, bctx, d, demo.Outsider)
		if got := textOf(t, ctx, "account"); got != demo.Outsider+"@example.com" {
			t.Errorf("denied account %q, want %s@example.com", got, demo.Outsider)
		}
		if got := textOf(t, ctx, "error"); !strings.Contains(got, "was not allowed") {
			t.Errorf("#error %q", got)
		}
		want := []shownReason{{sso.ReasonNotInGroup, sso.Sentence(sso.ReasonNotInGroup)}}
		if got := reasonsIn(t, ctx, "reasons"); !slices.Equal(got, want) {
			t.Errorf("reasons %+v, want %+v", got, want)
		}
		// The code is there for the admin, in small type.
		small, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#reasons small")).fontSize`))
		if err != nil {
			t.Fatal(err)
		}
		body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).fontSize`))
		if err != nil {
			t.Fatal(err)
		}
		if px(t, small) >= px(t, body) {
			t.Errorf("the code's font size %s is not smaller than the page's %s", small, body)
		}
	})
}

// px parses a CSS pixel length such as "12px".
func px(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	if _, err := fmt.Sscanf(strings.TrimSuffix(s, "px"), "%g", &v); err != nil {
		t.Fatalf("font size %q: %v", s, err)
	}
	return v
}
