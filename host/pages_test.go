package host

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/pingauthz/pingauthz/sso"
)

// byID finds the element with the given id in an HTML page.
func byID(t *testing.T, page, id string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		for _, a := range n.Attr {
			if a.Key == "id" && a.Val == id {
				return n
			}
		}
	}
	return nil
}

// textOf returns the text under n.
func textOf(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.TrimSpace(b.String())
}

// items returns the text of each <li> under n.
func items(n *html.Node) []string {
	var out []string
	if n == nil {
		return out
	}
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.Data == "li" {
			out = append(out, textOf(d))
		}
	}
	return out
}

func TestReasonsOf(t *testing.T) {
	got := reasonsOf([]string{"deny:not_whitelisted", "custom:rule"})
	want := []reason{
		{Code: "deny:not_whitelisted", Text: sso.Sentence("deny:not_whitelisted")},
		{Code: "custom:rule", Text: `The policy gave the reason "custom:rule".`},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("reasonsOf = %+v, want %+v", got, want)
	}
}

// reasonItems returns the code (data-code) and the sentence (the
// .sentence element) of each <li> under n.
func reasonItems(t *testing.T, n *html.Node) []reason {
	t.Helper()
	var out []reason
	if n == nil {
		return out
	}
	for li := range n.Descendants() {
		if li.Type != html.ElementNode || li.Data != "li" {
			continue
		}
		r := reason{Code: attr(li, "data-code")}
		for d := range li.Descendants() {
			if d.Type == html.ElementNode && attr(d, "class") == "sentence" {
				r.Text = textOf(d)
			}
		}
		out = append(out, r)
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func TestHomePageExplainsTheLogin(t *testing.T) {
	e := newTestEnv(t, "http://127.0.0.1:8080")
	admin := "admin"
	e.auth.identity.Groups = []string{"Admins", "ML Team", "Unknown"}
	e.auth.decision = sso.Decision{Allow: true, Signup: true, Company: "c1", Role: &admin, SyncGroups: true,
		Groups: []string{"ML Team"}, Reasons: []string{"signup:whitelist_domain", "role:admin_group", "groups:synced", "audit:custom"}}
	sc := cookieNamed(e.signIn("/"), sessionCookieName)
	page := body(t, e.do("GET", "/", nil, sc))
	for id, want := range map[string]string{
		"email":         "ada@example.com",
		"company-name":  "Company c1",
		"company":       "c1",
		"role":          "admin",
		"role-reason":   sso.Sentence("role:admin_group"),
		"login-reason":  sso.Sentence("signup:whitelist_domain"),
		"groups-reason": sso.Sentence("groups:synced"),
	} {
		if got := textOf(byID(t, page, id)); got != want {
			t.Errorf("#%s = %q, want %q", id, got, want)
		}
	}
	if got := items(byID(t, page, "groups")); !slices.Equal(got, []string{"ML Team"}) {
		t.Errorf("#groups = %q", got)
	}
	if got := items(byID(t, page, "ping-groups")); !slices.Equal(got, []string{"Admins", "ML Team", "Unknown"}) {
		t.Errorf("#ping-groups = %q", got)
	}
	if got := reasonItems(t, byID(t, page, "other-reasons")); !slices.Equal(got, []reason{{"audit:custom", sso.Sentence("audit:custom")}}) {
		t.Errorf("#other-reasons = %q", got)
	}
	if byID(t, page, "no-ping-groups") != nil || byID(t, page, "no-groups") != nil {
		t.Error("the page says there are no groups")
	}
}

func TestHomePageWithoutGroupsOrReasons(t *testing.T) {
	e := newTestEnv(t, "http://127.0.0.1:8080")
	e.auth.decision = sso.Decision{Allow: true, Signup: true, Company: "c1"}
	sc := cookieNamed(e.signIn("/"), sessionCookieName)
	page := body(t, e.do("GET", "/", nil, sc))
	if textOf(byID(t, page, "no-ping-groups")) != "Ping sent no groups." || textOf(byID(t, page, "no-groups")) != "None." {
		t.Errorf("page does not say there are no groups: %s", page)
	}
	for _, id := range []string{"role-reason", "login-reason", "groups-reason", "other-reasons"} {
		if byID(t, page, id) != nil {
			t.Errorf("#%s shown without a reason", id)
		}
	}
}
