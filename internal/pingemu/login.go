package pingemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// ErrLoginRejected is wrapped by Login's error when the login form comes back
// with an error (for example a wrong password) instead of a redirect.
var ErrLoginRejected = errors.New("pingemu: login rejected")

// maxPage bounds the HTML Login reads.
const maxPage = 1 << 20

// Login drives the HTML login form like a browser: GET authURL (the login
// page), POST username/password with the form's other fields, and return the
// redirect target (the client's redirect_uri with code, state and iss, or with
// error) WITHOUT following it. An authorize endpoint that redirects at once
// (an authorization error) yields that target too. It runs no JavaScript and
// keeps whatever cookie jar hc has; hc nil means http.DefaultClient.
func Login(ctx context.Context, hc *http.Client, authURL, username, password string) (*url.URL, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, fmt.Errorf("pingemu: login: %w", err)
	}
	target, page, err := fetchPage(&c, req)
	if err != nil || target != nil {
		return target, err
	}
	form, err := findLoginForm(page.doc, page.url)
	if err != nil {
		return nil, err
	}
	form.fields.Set("username", username)
	form.fields.Set("password", password)

	action := *form.action
	var body io.Reader
	if form.method == http.MethodGet {
		action.RawQuery = form.fields.Encode()
	} else {
		body = strings.NewReader(form.fields.Encode())
	}
	req, err = http.NewRequestWithContext(ctx, form.method, action.String(), body)
	if err != nil {
		return nil, fmt.Errorf("pingemu: login: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	target, page, err = fetchPage(&c, req)
	if err != nil || target != nil {
		return target, err
	}
	msg := textOf(findByID(page.doc, "error"))
	if msg == "" {
		msg = "the login form answered without redirecting"
	}
	return nil, fmt.Errorf("%w: %s", ErrLoginRejected, msg)
}

type htmlPage struct {
	url *url.URL
	doc *html.Node
}

// fetchPage sends req and returns either the redirect target or a 200 page.
func fetchPage(c *http.Client, req *http.Request) (*url.URL, *htmlPage, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("pingemu: login: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc, err := resp.Location()
		if err != nil {
			return nil, nil, fmt.Errorf("pingemu: login: redirect from %s: %w", req.URL, err)
		}
		return loc, nil, nil
	}
	doc, err := html.Parse(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return nil, nil, fmt.Errorf("pingemu: login: parse page %s: %w", req.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := textOf(findByID(doc, "error"))
		return nil, nil, fmt.Errorf("pingemu: login: %s %s answered %s: %s", req.Method, req.URL, resp.Status, msg)
	}
	return nil, &htmlPage{url: req.URL, doc: doc}, nil
}

type loginForm struct {
	method string
	action *url.URL
	fields url.Values
}

// findLoginForm returns the first form holding a password input, with its
// named input values.
func findLoginForm(doc *html.Node, base *url.URL) (*loginForm, error) {
	var found *loginForm
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if found != nil {
			return
		}
		if n.Type == html.ElementNode && n.Data == "form" {
			f := &loginForm{method: http.MethodGet, action: base, fields: url.Values{}}
			hasPassword := false
			if m := attr(n, "method"); strings.EqualFold(m, "post") {
				f.method = http.MethodPost
			}
			if a := attr(n, "action"); a != "" {
				if u, err := base.Parse(a); err == nil {
					f.action = u
				}
			}
			forEach(n, func(in *html.Node) {
				if in.Type != html.ElementNode || in.Data != "input" || attr(in, "name") == "" {
					return
				}
				if strings.EqualFold(attr(in, "type"), "password") {
					hasPassword = true
				}
				f.fields.Set(attr(in, "name"), attr(in, "value"))
			})
			if hasPassword {
				found = f
			}
			return
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	if found == nil {
		return nil, fmt.Errorf("pingemu: login: no form with a password field at %s", base)
	}
	return found, nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// forEach calls fn for n's descendants in document order.
func forEach(n *html.Node, fn func(*html.Node)) {
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		fn(ch)
		forEach(ch, fn)
	}
}

func findByID(n *html.Node, id string) *html.Node {
	if n.Type == html.ElementNode && attr(n, "id") == id {
		return n
	}
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if m := findByID(ch, id); m != nil {
			return m
		}
	}
	return nil
}

// textOf returns n's text content with whitespace collapsed.
func textOf(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	if n.Type == html.TextNode {
		b.WriteString(n.Data)
	}
	forEach(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}
