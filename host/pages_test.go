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
