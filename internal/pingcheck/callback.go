package pingcheck

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pingauthz/pingauthz/internal/config"
)

// Callback receives a login's redirect on a loopback address, as command
// line logins do (RFC 8252): the first request to the redirect URI's path
// ends the wait.
type Callback struct {
	// RedirectURI is the redirect URI to send; with port 0 in the URI
	// given, it names the port that was opened.
	RedirectURI string

	ln   net.Listener
	srv  *http.Server
	path string
	got  chan url.Values
	once sync.Once
}

// ListenCallback checks redirectURI (http on a loopback host, with a path)
// and listens on its host and port. Port 0 picks a free port; only an
// identity provider that accepts any loopback port (RFC 8252 section 7.3)
// then accepts the redirect.
func ListenCallback(redirectURI string) (*Callback, error) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return nil, fmt.Errorf("pingcheck: redirect URI %q: %w", redirectURI, err)
	}
	if u.Scheme != "http" || !config.IsLoopback(u.Hostname()) || u.Port() == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("pingcheck: redirect URI %q: want http://127.0.0.1:PORT/PATH (a loopback host with a port, no query), where this command receives the login", redirectURI)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, u.Port()))
	if err != nil {
		return nil, fmt.Errorf("pingcheck: cannot receive the login at %s: %w", redirectURI, err)
	}
	if u.Port() == "0" {
		u.Host = net.JoinHostPort(u.Hostname(), fmt.Sprint(ln.Addr().(*net.TCPAddr).Port))
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	c := &Callback{RedirectURI: u.String(), ln: ln, path: path, got: make(chan url.Values, 1)}
	c.srv = &http.Server{Handler: http.HandlerFunc(c.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

var callbackPage = template.Must(template.New("cb").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pingauthz ping check</title></head>
<body><h1>{{.}}</h1><p>Return to the terminal; you can close this tab.</p></body></html>
`))

func (c *Callback) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.EscapedPath() != c.path || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	msg := "The sign-in reached pingauthz ping check."
	first := false
	c.once.Do(func() {
		first = true
		c.got <- r.URL.Query()
	})
	if !first {
		msg = "pingauthz ping check already received a sign-in."
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	_ = callbackPage.Execute(w, msg)
}

// Wait returns the query of the first request to the redirect URI's path,
// or ctx's error.
func (c *Callback) Wait(ctx context.Context) (url.Values, error) {
	select {
	case q := <-c.got:
		return q, nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, errors.New("pingcheck: no sign-in came back in time")
		}
		return nil, fmt.Errorf("pingcheck: waiting for the sign-in: %w", ctx.Err())
	}
}

// Close stops listening; a page being answered may finish first.
func (c *Callback) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.srv.Shutdown(ctx)
}
