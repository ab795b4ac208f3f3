package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingauthz/pingauthz/internal/demo"
	"github.com/pingauthz/pingauthz/internal/pingemu"
)

// login runs one whole login of u at d as a browser without JavaScript
// would: the begin path, the emulator's login form, the callback. It fails
// unless the callback redirects with a session cookie.
func login(ctx context.Context, hc *http.Client, d *deployment, u pingemu.User) error {
	resp, err := get(ctx, hc, d.base+d.flow.begin)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusFound {
		return fmt.Errorf("GET %s: status %d", d.flow.begin, resp.StatusCode)
	}
	cb, err := pingemu.Login(ctx, hc, resp.Header.Get("Location"), u.Username, u.Password)
	if err != nil {
		return err
	}
	resp, err = get(ctx, hc, cb.String())
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("callback: status %d", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if strings.Contains(c.Name, d.flow.sessionCookie) && c.Value != "" && c.MaxAge >= 0 {
			return nil
		}
	}
	return fmt.Errorf("callback: status %d without a session cookie", resp.StatusCode)
}

func get(ctx context.Context, hc *http.Client, rawURL string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

// measured is one run of logins against one deployment.
type measured struct {
	logins int
	wall   time.Duration
	lat    []time.Duration // sorted
	cpu    time.Duration   // of the deployment's processes
	// serverRSS and childRSS are the largest resident memory of a server
	// and of its plugin after the run, in MB.
	serverRSS, childRSS float64
}

func (m measured) perSecond() float64 { return float64(m.logins) / m.wall.Seconds() }

// cpuPerLogin is the deployment's CPU time per login in milliseconds.
func (m measured) cpuPerLogin() float64 { return ms(m.cpu) / float64(m.logins) }

// runLogins runs n logins against d with the given concurrency, each with a
// fresh cookie jar over shared connections, and measures them.
func runLogins(d *deployment, n, workers int, pick func(int) pingemu.User) (measured, error) {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	ctx := context.Background()
	lat := make([]time.Duration, n)
	var (
		next     atomic.Int64
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	cpu0, err := d.cpu()
	if err != nil {
		return measured{}, err
	}
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				u := pick(i)
				t0 := time.Now()
				if err := login(ctx, demo.NewBrowserClient(tr), d, u); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("%s: login %s: %w", d.name, u.Username, err)
					}
					mu.Unlock()
					next.Store(int64(n)) // stop the others
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	m := measured{logins: n, wall: time.Since(start), lat: sortDurations(lat)}
	if firstErr != nil {
		return m, firstErr
	}
	cpu1, err := d.cpu()
	if err != nil {
		return m, err
	}
	m.cpu = cpu1 - cpu0
	m.serverRSS, m.childRSS, err = d.rss()
	return m, err
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(float64(len(sorted)-1)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cookieSecret returns a random 32-byte cookie secret for oauth2-proxy.
func cookieSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:32]
}
