// Package flood sends the cheapest unauthenticated load a client can aim at
// a pingauthz server: logins begun at /login/ping and answered at once with
// a provider error at the callback, as a script with a cookie jar can, while
// a real user keeps logging in. The load program and the end-to-end tests
// use it. It talks to loopback servers only and does not judge the answers:
// callers decide which statuses are right.
package flood

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingauthz/pingauthz/host"
	"github.com/pingauthz/pingauthz/internal/demo"
)

// Client returns an HTTP client whose connections come from the loopback
// address ip (the server sees it as the client's address), with up to conns
// connections kept alive. It neither follows redirects nor keeps cookies.
func Client(ip string, conns int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns},
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Result counts the answers of a flood by pair: the status of the begin and
// of the callback ("begin 302, callback 400"; a refused begin has no
// callback), and failed requests by error text.
type Result struct {
	Pairs   int64
	Answers map[string]int64
	Elapsed time.Duration
}

// Pair begins a login at base and answers it with error=x, the state the
// server issued and the issuer, sending back the cookies it set. It
// returns the two statuses (callback 0 when the begin was refused).
func Pair(ctx context.Context, hc *http.Client, base, issuer string) (begin, callback int, err error) {
	resp, err := get(ctx, hc, base+"/login/ping", nil)
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusFound {
		return resp.StatusCode, 0, nil
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return 0, 0, fmt.Errorf("flood: the begin's location: %w", err)
	}
	q := url.Values{"error": {"x"}, "state": {loc.Query().Get("state")}, "iss": {issuer}}
	cb, err := get(ctx, hc, base+host.CallbackPath+"?"+q.Encode(), resp.Cookies())
	if err != nil {
		return 0, 0, err
	}
	return resp.StatusCode, cb.StatusCode, nil
}

// Run sends n pairs over workers concurrent connections of hc and counts
// the answers. It stops early when ctx ends.
func Run(ctx context.Context, hc *http.Client, base, issuer string, n, workers int) *Result {
	var (
		next atomic.Int64
		mu   sync.Mutex
		wg   sync.WaitGroup
	)
	res := &Result{Answers: map[string]int64{}}
	start := time.Now()
	for range workers {
		wg.Go(func() {
			local := map[string]int64{}
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				begin, cb, err := Pair(ctx, hc, base, issuer)
				switch {
				case err != nil:
					local[err.Error()]++
				case cb == 0:
					local[fmt.Sprintf("begin %d", begin)]++
				default:
					local[fmt.Sprintf("begin %d, callback %d", begin, cb)]++
				}
			}
			mu.Lock()
			for k, v := range local {
				res.Answers[k] += v
				res.Pairs += v
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	return res
}

// Logins logs the user in at base over tr, with a fresh cookie jar each
// time, one login every interval until done is closed (at least once). It
// returns how long each login took, and stops at the first login that does
// not end on a session.
func Logins(ctx context.Context, tr http.RoundTripper, base, username, password string, every time.Duration, done <-chan struct{}) ([]time.Duration, error) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	var took []time.Duration
	for {
		start := time.Now()
		r, err := demo.Login(ctx, demo.NewBrowserClient(tr), base, username, password)
		if err != nil {
			return took, fmt.Errorf("flood: login %d of %s: %w", len(took)+1, username, err)
		}
		if r.Status != http.StatusSeeOther || !r.Session {
			return took, fmt.Errorf("flood: login %d of %s: callback status %d, session %v", len(took)+1, username, r.Status, r.Session)
		}
		took = append(took, time.Since(start))
		select {
		case <-done:
			return took, nil
		case <-ctx.Done():
			return took, ctx.Err()
		case <-tick.C:
		}
	}
}

// get sends a GET with cookies and discards the body.
func get(ctx context.Context, hc *http.Client, rawURL string, cookies []*http.Cookie) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("flood: %w", err)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}
