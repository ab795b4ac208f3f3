package pingemu

import (
	"html/template"
	"net/http"
)

// pageStyle is shared by the login and error pages.
const pageStyle = `body{font-family:system-ui,sans-serif;background:#f2f4f7;margin:0;display:flex;justify-content:center}
main{background:#fff;margin-top:8vh;padding:2rem 2.5rem;border-radius:8px;box-shadow:0 2px 12px rgba(0,0,0,.12);width:22rem}
h1{font-size:1.4rem;margin:0 0 .3rem;color:#b3282d}p{color:#333}label{display:block;margin-top:1rem;font-size:.9rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.55rem;margin-top:.3rem;border:1px solid #bbb;border-radius:4px}
button{margin-top:1.5rem;width:100%;padding:.65rem;border:0;border-radius:4px;background:#b3282d;color:#fff;font-size:1rem;cursor:pointer}
.error{background:#fdecea;color:#8a1c1c;padding:.6rem;border-radius:4px}`

var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign On - {{.Product}}</title>
<style>` + pageStyle + `</style>
</head>
<body>
<main>
<h1>{{.Product}}</h1>
<p>Sign on to continue to <strong id="client">{{.ClientID}}</strong>.</p>
{{if .Error}}<p id="error" class="error" role="alert">{{.Error}}</p>{{end}}
<form id="signon" method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" value="{{.Username}}" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button id="signin" type="submit">Sign On</button>
</form>
</main>
</body>
</html>
`))

var errorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Error - {{.Product}}</title>
<style>` + pageStyle + `</style>
</head>
<body>
<main>
<h1>{{.Product}}</h1>
<p id="error" class="error" role="alert"><strong>{{.Code}}</strong>: {{.Message}}</p>
</main>
</body>
</html>
`))

type hiddenField struct{ Name, Value string }

type loginView struct {
	Product, ClientID, Action, Username, Error string
	Hidden                                     []hiddenField
}

type errorView struct{ Product, Code, Message string }

func (s *Server) product() string {
	if s.flavor == PingFederate {
		return "PingFederate"
	}
	return "PingOne"
}

// setPageHeaders forbids caching and framing of the HTML pages.
func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// No form-action directive: browsers apply it to the redirect to the client.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
}

func (s *Server) renderLogin(w http.ResponseWriter, v loginView) {
	v.Product = s.product()
	v.Action = s.path(epAuthorize)
	setPageHeaders(w)
	w.WriteHeader(http.StatusOK)
	_ = loginPage.Execute(w, v)
}

// renderError shows an error page; used when redirecting to the client is unsafe.
func (s *Server) renderError(w http.ResponseWriter, status int, code, msg string) {
	setPageHeaders(w)
	w.WriteHeader(status)
	_ = errorPage.Execute(w, errorView{Product: s.product(), Code: code, Message: msg})
}
