package ping

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// endpoint names a provider endpoint in errors and the variable that sets it.
type endpoint struct {
	Name     string // "discovery", "token", "JWKS", "userinfo"
	Variable string // the key under the services prefix
}

var (
	epDiscovery = endpoint{"discovery", ""} // its URL is derived from the issuer
	epToken     = endpoint{"token", "access_token_url"}
	epJWKS      = endpoint{"JWKS", "jwks_url"}
	epUserinfo  = endpoint{"userinfo", "userinfo_url"}
)

type endpointKey struct{}

// toEndpoint marks ctx as a call to ep, so a refused redirect names it.
func toEndpoint(ctx context.Context, ep endpoint) context.Context {
	return context.WithValue(ctx, endpointKey{}, ep)
}

// RedirectError is a provider endpoint that answered with a redirect. The
// relying party never follows one: a redirect from the token endpoint would
// otherwise carry the client secret, the code and the PKCE verifier to
// another host.
type RedirectError struct {
	// Endpoint is "discovery", "token", "JWKS" or "userinfo".
	Endpoint string
	// URL is the configured or discovered endpoint; Location where it
	// pointed; Status the redirect's HTTP status.
	URL      string
	Location string
	Status   int
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("ping: the %s endpoint %s answered %d redirecting to %s; redirects are refused",
		e.Endpoint, e.URL, e.Status, e.Location)
}

// refuseRedirect is the CheckRedirect of every client the relying party uses.
func refuseRedirect(req *http.Request, via []*http.Request) error {
	ep, _ := req.Context().Value(endpointKey{}).(endpoint)
	e := &RedirectError{Endpoint: ep.Name, Location: req.URL.Redacted()}
	if e.Endpoint == "" {
		e.Endpoint = "provider"
	}
	if len(via) > 0 {
		e.URL = via[0].URL.Redacted()
	}
	if req.Response != nil {
		e.Status = req.Response.StatusCode
	}
	return e
}

// redirectError returns the login error for a refused redirect, or nil when
// err is not one.
func redirectError(err error) *Error {
	var re *RedirectError
	if !errors.As(err, &re) {
		return nil
	}
	msg := fmt.Sprintf("the identity provider's %s endpoint answered with a redirect (HTTP %d), which is refused", re.Endpoint, re.Status)
	for _, ep := range []endpoint{epDiscovery, epToken, epJWKS, epUserinfo} {
		if ep.Name == re.Endpoint && ep.Variable != "" {
			msg += "; set " + EnvName(ep.Variable) + " to the endpoint itself"
		}
	}
	return verificationError(msg, re)
}

// httpClient returns the client for calls to the provider: a copy of c (the
// caller's client is left as it is) or the default one, refusing redirects.
func httpClient(c *http.Client) *http.Client {
	if c == nil {
		return defaultHTTPClient()
	}
	cp := *c
	cp.CheckRedirect = refuseRedirect
	return &cp
}

// maxIdlePerHost is how many idle connections the default client keeps per
// provider host: as many as logins may run at once, so concurrent logins
// reuse connections (and, against Ping, TLS sessions) instead of opening new
// ones. net/http's default is 2.
const maxIdlePerHost = 64

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = maxIdlePerHost
	t.MaxIdleConns = 4 * maxIdlePerHost
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 5 * time.Second
	t.ResponseHeaderTimeout = 15 * time.Second
	// No Client.Timeout: every call is bounded by ExchangeTimeout through
	// its context, and a client timeout costs a timer per request.
	return &http.Client{Transport: t, CheckRedirect: refuseRedirect}
}

// formEncoder writes name=value pairs form-encoded, in the order given:
// the token request's body and the authorize URL's query. (url.Values
// builds a map and sorts its keys.)
type formEncoder struct {
	strings.Builder
	pairs int
}

func (f *formEncoder) add(name, value string) {
	if f.pairs > 0 {
		f.WriteByte('&')
	}
	f.pairs++
	f.WriteString(url.QueryEscape(name))
	f.WriteByte('=')
	f.WriteString(url.QueryEscape(value))
}

// get performs a GET to ep with an optional bearer token and returns the
// body (at most maxBody bytes), status and content type.
func (rp *RelyingParty) get(ctx context.Context, ep endpoint, u, bearer string) ([]byte, int, string, error) {
	req, err := http.NewRequestWithContext(toEndpoint(ctx, ep), http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, "", err
	}
	req.Header.Set("Accept", "application/json, application/jwt;q=0.9")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := rp.hc.Do(req)
	if err != nil {
		return nil, 0, "", err
	}
	defer resp.Body.Close()
	body, err := readBody(resp)
	if err != nil {
		return nil, resp.StatusCode, "", err
	}
	return body, resp.StatusCode, resp.Header.Get("Content-Type"), nil
}

// readBody reads at most maxBody bytes of a response, in one allocation when
// the length is announced.
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n <= maxBody {
		body := make([]byte, n)
		_, err := io.ReadFull(resp.Body, body)
		return body, err
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxBody))
}
