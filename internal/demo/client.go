package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/pingauthz/pingauthz/internal/pingemu"
)

// LoginResult is the end of a login driven by Login.
type LoginResult struct {
	// Status and Location are those of the callback's response.
	Status   int
	Location string
	// Session reports whether the callback set a session cookie.
	Session bool
}

// NewBrowserClient returns an HTTP client with a fresh cookie jar that does
// not follow redirects, over tr (nil means a new transport).
func NewBrowserClient(tr http.RoundTripper) *http.Client {
	jar, _ := cookiejar.New(nil) // never fails without options
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &http.Client{
		Transport:     tr,
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Login drives a whole login as a browser without JavaScript would:
// GET serverURL/login/ping, the emulator's login form, then the callback.
// hc must not follow redirects and should have a cookie jar (see
// NewBrowserClient). It returns an error for a step that fails outright;
// a callback that refuses the login is a LoginResult with its status.
func Login(ctx context.Context, hc *http.Client, serverURL, username, password string) (*LoginResult, error) {
	resp, err := get(ctx, hc, serverURL+"/login/ping")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("demo: GET /login/ping: status %d", resp.StatusCode)
	}
	cb, err := pingemu.Login(ctx, hc, resp.Header.Get("Location"), username, password)
	if err != nil {
		return nil, err
	}
	resp, err = get(ctx, hc, cb.String())
	if err != nil {
		return nil, err
	}
	r := &LoginResult{Status: resp.StatusCode, Location: resp.Header.Get("Location")}
	for _, c := range resp.Cookies() {
		if strings.Contains(c.Name, "session") && c.Value != "" && c.MaxAge >= 0 {
			r.Session = true
		}
	}
	return r, nil
}

// get sends a GET and discards the body.
func get(ctx context.Context, hc *http.Client, rawURL string) (*http.Response, error) {
	if _, err := url.Parse(rawURL); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp, nil
}
