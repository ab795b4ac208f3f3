package host

import (
	"bytes"
	"cmp"
	"html/template"
	"net/http"
	"strings"

	"github.com/pingauthz/pingauthz/sso"
)

// pageCSP forbids scripts, frames and foreign form targets on every page.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// pageTemplates holds the HTML pages. Every value is escaped by
// html/template; no page receives a secret, a code or a token.
var pageTemplates = template.Must(template.New("layout").Parse(`{{define "layout"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
dt { font-weight: 600; } dd { margin: 0 0 .5rem 0; }
.error { color: #a00; } code { background: #f3f3f3; padding: 0 .2rem; }
small { color: #666; font-size: .75rem; } ul { margin: 0; padding-left: 1.2rem; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{template "content" .}}
</body>
</html>{{end}}

{{define "home"}}{{template "layout" .}}{{end}}
{{define "deny"}}{{template "layout" .}}{{end}}
{{define "error"}}{{template "layout" .}}{{end}}
`))

var (
	homeTemplate = mustContent("home", `{{define "content"}}{{with .Account}}
<p>You are signed in.</p>
<dl id="account">
<dt>Email</dt><dd id="email">{{.Email}}</dd>
<dt>Name</dt><dd id="name">{{.Name}}</dd>
<dt>Company</dt><dd><span id="company-name">{{or .CompanyName .Company}}</span> <small>(<code id="company">{{.Company}}</code>)</small></dd>
{{with $.Entry}}<dt>Access</dt><dd><span id="login-reason">{{.Text}}</span> <small><code>{{.Code}}</code></small></dd>{{end}}
<dt>Role</dt><dd><span id="role">{{.Role}}</span>{{with $.Role}}<br><span id="role-reason">{{.Text}}</span> <small><code>{{.Code}}</code></small>{{end}}</dd>
<dt>ClearML groups</dt><dd><ul id="groups">{{range .Groups}}<li>{{.}}</li>{{end}}</ul>{{if not .Groups}}<p id="no-groups">None.</p>{{end}}{{with $.Groups}}<span id="groups-reason">{{.Text}}</span> <small><code>{{.Code}}</code></small>{{end}}</dd>
<dt>Ping groups read at sign-in</dt><dd><ul id="ping-groups">{{range .PingGroups}}<li>{{.}}</li>{{end}}</ul>{{if not .PingGroups}}<p id="no-ping-groups">Ping sent no groups.</p>{{end}}</dd>
</dl>
{{with $.Other}}<p>Other reasons:</p>
<ul id="other-reasons">{{range .}}<li data-code="{{.Code}}"><span class="sentence">{{.Text}}</span> <small><code>{{.Code}}</code></small></li>{{end}}</ul>{{end}}
<form id="logout" method="post" action="/logout"><button type="submit">Log out</button></form>
{{else}}
<p>You are not signed in.</p>
<p><a id="login" href="/login/ping">Log in with Ping</a></p>
{{end}}{{end}}`)

	denyTemplate = mustContent("deny", `{{define "content"}}
<p class="error" id="error">The sign-in of <strong id="account">{{.Account}}</strong> was not allowed.</p>
<ul id="reasons">{{range .Reasons}}<li data-code="{{.Code}}"><span class="sentence">{{.Text}}</span> <small><code>{{.Code}}</code></small></li>{{end}}</ul>
<p>Ask an administrator if you think this is wrong. <a href="/">Home</a></p>
{{end}}`)

	errorTemplate = mustContent("error", `{{define "content"}}
<p class="error" id="error">{{.Message}}</p>
<p><a href="/login/ping">Try again</a> &middot; <a href="/">Home</a></p>
{{end}}`)
)

// mustContent clones the layout and adds the page's content block.
func mustContent(name, content string) *template.Template {
	return template.Must(template.Must(pageTemplates.Clone()).Parse(content)).Lookup(name)
}

// homePage is the data of the home page; Account is nil when signed out.
// Entry, Role and Groups are the reasons of the session's login that
// explain how the user got in, the role and the groups; Other holds any
// reason of another kind.
type homePage struct {
	Title               string
	Account             *sso.Account
	Entry, Role, Groups *reason
	Other               []reason
}

// newHomePage sorts the account's reasons for the home page.
func newHomePage(title string, a *sso.Account) homePage {
	p := homePage{Title: title, Account: a}
	if a == nil {
		return p
	}
	for _, r := range reasonsOf(a.Reasons) {
		kind, _, _ := strings.Cut(r.Code, ":")
		var slot **reason
		switch kind {
		case "login", "signup":
			slot = &p.Entry
		case "role":
			slot = &p.Role
		case "groups":
			slot = &p.Groups
		}
		if slot == nil || *slot != nil {
			p.Other = append(p.Other, r)
			continue
		}
		*slot = &r
	}
	return p
}

// reason is one reason code with its sentence.
type reason struct {
	Code string
	Text string
}

// denyPage names the denied account (its email, else its name or user
// id) and explains the denial.
type denyPage struct {
	Title   string
	Account string
	Reasons []reason
}

// newDenyPage explains a deny of id: each reason as a sentence, except
// that an operator's message stands for the deny: code it came with.
func newDenyPage(id *sso.Identity, d *sso.Decision) denyPage {
	rs := reasonsOf(d.Reasons)
	if d.Message != "" {
		for i := range rs {
			if strings.HasPrefix(rs[i].Code, "deny:") {
				rs[i].Text = d.Message
				break
			}
		}
	}
	return denyPage{Title: "Access denied", Account: cmp.Or(id.Email, id.Name, id.UserID), Reasons: rs}
}

type errorPage struct {
	Title   string
	Message string
}

// reasonsOf pairs every code with its sentence.
func reasonsOf(codes []string) []reason {
	out := make([]reason, 0, len(codes))
	for _, c := range codes {
		out = append(out, reason{Code: c, Text: sso.Sentence(c)})
	}
	return out
}

// renderPage writes a page with the security headers every page carries. A
// template failure becomes a plain 500 so no half page is sent.
func (h *handler) renderPage(w http.ResponseWriter, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		h.log.Error("render page", "page", t.Name(), "error", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("Internal error\n")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Content-Security-Policy", pageCSP)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderError writes the error page with a message safe for the user.
func (h *handler) renderError(w http.ResponseWriter, status int, title, message string) {
	h.renderPage(w, status, errorTemplate, errorPage{Title: title, Message: message})
}
