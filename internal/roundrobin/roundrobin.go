// Package roundrobin is a small reverse proxy that sends each request to the
// next of several backends, as a load balancer in front of server replicas
// does, so that consecutive requests of one login land on different
// replicas. It is for the load program and the end-to-end tests.
//
// A backend that refuses a connection is taken out of the rotation and the
// request goes to the next one (nothing reached the refusing backend, so the
// retry is safe); any other failure is a 502. It does not check health in
// the background, bring a backend back, or keep a client on one backend.
package roundrobin

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
)

// BackendHeader names the response header that says which backend answered:
// its index in the order of New.
const BackendHeader = "X-Roundrobin-Backend"

// Proxy is a round-robin reverse proxy. It is safe for concurrent use.
type Proxy struct {
	backends []*url.URL
	tr       *http.Transport
	next     atomic.Uint64
	hits     []atomic.Int64

	mu   sync.Mutex
	down []bool
}

// New returns a proxy over the backends' origins (http://host:port).
func New(backends ...string) (*Proxy, error) {
	if len(backends) == 0 {
		return nil, errors.New("roundrobin: no backends")
	}
	p := &Proxy{
		tr:   &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
		hits: make([]atomic.Int64, len(backends)),
		down: make([]bool, len(backends)),
	}
	for _, b := range backends {
		u, err := url.Parse(b)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("roundrobin: backend %q: want http(s)://host:port", b)
		}
		p.backends = append(p.backends, u)
	}
	return p, nil
}

// Hits returns how many requests each backend answered, in the order of New.
func (p *Proxy) Hits() []int64 {
	out := make([]int64, len(p.hits))
	for i := range p.hits {
		out[i] = p.hits[i].Load()
	}
	return out
}

// Down reports which backends were taken out of the rotation.
func (p *Proxy) Down() []bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]bool(nil), p.down...)
}

// Close closes the idle connections to the backends.
func (p *Proxy) Close() { p.tr.CloseIdleConnections() }

// ServeHTTP forwards r to the next backend in the rotation.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for range p.backends {
		i, ok := p.pick()
		if !ok {
			break
		}
		resp, err := p.tr.RoundTrip(p.outgoing(r, p.backends[i]))
		if err != nil {
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" && (r.Body == nil || r.Body == http.NoBody) {
				p.markDown(i)
				continue
			}
			http.Error(w, "roundrobin: "+err.Error(), http.StatusBadGateway)
			return
		}
		p.hits[i].Add(1)
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.Header().Set(BackendHeader, strconv.Itoa(i))
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		return
	}
	http.Error(w, "roundrobin: no backend is up", http.StatusBadGateway)
}

// pick returns the next backend that is not down.
func (p *Proxy) pick() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range p.backends {
		i := int(p.next.Add(1)-1) % len(p.backends)
		if !p.down[i] {
			return i, true
		}
	}
	return 0, false
}

func (p *Proxy) markDown(i int) {
	p.mu.Lock()
	p.down[i] = true
	p.mu.Unlock()
}

// outgoing is r addressed to backend, with the client's Host kept (as a
// proxy that forwards the Host header does) and its address appended to
// X-Forwarded-For.
func (p *Proxy) outgoing(r *http.Request, backend *url.URL) *http.Request {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = backend.Scheme, backend.Host
	out.Host = r.Host
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if prior := r.Header.Get("X-Forwarded-For"); prior != "" {
			ip = prior + ", " + ip
		}
		out.Header.Set("X-Forwarded-For", ip)
	}
	return out
}
