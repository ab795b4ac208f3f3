package pingemu

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name     string
		clientID string // the client whose code is redeemed (default basic-app)
		asClient string // the client authenticating (default clientID)
		method   string
		secret   string
		form     url.Values
		advance  time.Duration
		status   int
		err      string
	}{
		{name: "ok just before expiry", method: AuthBasic, advance: 59 * time.Second, status: 200},
		{name: "ok at expiry", method: AuthBasic, advance: 60 * time.Second, status: 200},
		{name: "expired code", method: AuthBasic, advance: 61 * time.Second, status: 400, err: "invalid_grant"},
		{name: "basic client using post", method: AuthPost, status: 401, err: "invalid_client"},
		{name: "post client using basic", clientID: "post-app", method: AuthBasic, status: 401, err: "invalid_client"},
		{name: "wrong secret", method: AuthBasic, secret: "nope", status: 401, err: "invalid_client"},
		{name: "no client authentication", method: "none", status: 401, err: "invalid_client"},
		{name: "code of another client", asClient: "post-app", method: AuthPost, status: 400, err: "invalid_grant"},
		{name: "redirect_uri differs", method: AuthBasic, form: url.Values{"redirect_uri": {testRedirect + "/x"}}, status: 400, err: "invalid_grant"},
		{name: "redirect_uri missing", method: AuthBasic, form: url.Values{"redirect_uri": {""}}, status: 400, err: "invalid_grant"},
		{name: "unknown code", method: AuthBasic, form: url.Values{"code": {"made-up"}}, status: 400, err: "invalid_grant"},
		{name: "wrong grant type", method: AuthBasic, form: url.Values{"grant_type": {"password"}}, status: 400, err: "unsupported_grant_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			s := startServer(t, Options{Now: clk.Now})
			if tc.clientID == "" {
				tc.clientID = "basic-app"
			}
			if tc.asClient == "" {
				tc.asClient = tc.clientID
			}
			if tc.secret == "" {
				tc.secret = testSecret
			}
			form := url.Values{"code": {loginCode(t, s, tc.clientID, nil)}}
			for k, v := range tc.form {
				form[k] = v
			}
			clk.Advance(tc.advance)
			res := exchange(t, s, tc.asClient, tc.secret, tc.method, form)
			if res.status != tc.status || res.str("error") != tc.err {
				t.Fatalf("got %d %v, want %d %q", res.status, res.body, tc.status, tc.err)
			}
			if tc.status == 401 && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("401 without a Basic challenge: %q", res.header.Get("WWW-Authenticate"))
			}
		})
	}
}

// A failed client authentication leaves the code usable, so a client that
// guessed the wrong method can retry (as x/oauth2's AutoDetect does).
func TestTokenRetryAfterWrongMethod(t *testing.T) {
	s := startServer(t, Options{})
	code := loginCode(t, s, "post-app", nil)
	if res := exchange(t, s, "post-app", testSecret, AuthBasic, url.Values{"code": {code}}); res.status != 401 {
		t.Fatalf("basic for a post client: %d %v", res.status, res.body)
	}
	if res := exchange(t, s, "post-app", testSecret, AuthPost, url.Values{"code": {code}}); res.status != 200 {
		t.Fatalf("retry with post: %d %v", res.status, res.body)
	}
}

func TestCodeReuse(t *testing.T) {
	s := startServer(t, Options{})
	code := loginCode(t, s, "basic-app", nil)
	first := exchange(t, s, "basic-app", testSecret, AuthBasic, url.Values{"code": {code}})
	if first.status != 200 {
		t.Fatalf("first redemption: %d %v", first.status, first.body)
	}
	if resp, _ := getUserinfo(t, s, first.str("access_token")); resp.StatusCode != 200 {
		t.Fatalf("userinfo before reuse: %d", resp.StatusCode)
	}
	second := exchange(t, s, "basic-app", testSecret, AuthBasic, url.Values{"code": {code}})
	if second.status != 400 || second.str("error") != "invalid_grant" {
		t.Fatalf("reuse: %d %v", second.status, second.body)
	}
	if resp, _ := getUserinfo(t, s, first.str("access_token")); resp.StatusCode != 401 {
		t.Errorf("access token from a reused code still works: %d", resp.StatusCode)
	}
}

// TestReusableCodesFault checks that the fault lets a code be redeemed
// twice, each time with working tokens.
func TestReusableCodesFault(t *testing.T) {
	s := startServer(t, Options{Faults: Faults{ReusableCodes: true}})
	code := loginCode(t, s, "basic-app", nil)
	for i := range 2 {
		res := exchange(t, s, "basic-app", testSecret, AuthBasic, url.Values{"code": {code}})
		if res.status != 200 {
			t.Fatalf("redemption %d: %d %v", i+1, res.status, res.body)
		}
		if resp, _ := getUserinfo(t, s, res.str("access_token")); resp.StatusCode != 200 {
			t.Fatalf("userinfo after redemption %d: %d", i+1, resp.StatusCode)
		}
	}
}

func TestTokenStatusFault(t *testing.T) {
	for _, status := range []int{400, 500, 503} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			s := startServer(t, Options{Faults: Faults{TokenStatus: status}})
			code := loginCode(t, s, "basic-app", nil)
			res := exchange(t, s, "basic-app", testSecret, AuthBasic, url.Values{"code": {code}})
			if res.status != status || res.str("error") == "" {
				t.Fatalf("got %d %v", res.status, res.body)
			}
			s.SetFaults(Faults{})
			if res := exchange(t, s, "basic-app", testSecret, AuthBasic, url.Values{"code": {code}}); res.status != 200 {
				t.Errorf("after clearing the fault: %d %v", res.status, res.body)
			}
		})
	}
}

func TestTokenDelay(t *testing.T) {
	tests := []struct {
		name    string
		delay   time.Duration
		timeout time.Duration
		wantErr bool
	}{
		{name: "answers after the delay", delay: 50 * time.Millisecond, timeout: 5 * time.Second},
		{name: "ends with the request context", delay: time.Minute, timeout: 100 * time.Millisecond, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, Options{Faults: Faults{TokenDelay: tc.delay}})
			code := loginCode(t, s, "basic-app", nil)
			ctx, cancel := context.WithTimeout(t.Context(), tc.timeout)
			defer cancel()
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.TokenURL(), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("basic-app", url.QueryEscape(testSecret))
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			elapsed := time.Since(start)
			if tc.wantErr {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("err = %v, want a deadline error", err)
				}
				if elapsed > 5*time.Second {
					t.Errorf("took %v", elapsed)
				}
				// The handler itself returns once the context ends, whether
				// that happens before or while it waits out the delay.
				hctx, hcancel := context.WithCancel(context.Background())
				hreq := httptest.NewRequestWithContext(hctx, http.MethodPost, s.path(epToken), strings.NewReader(form.Encode()))
				hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				done := make(chan struct{})
				go func() { s.Handler().ServeHTTP(httptest.NewRecorder(), hreq); close(done) }()
				hcancel()
				select {
				case <-done:
				case <-time.After(5 * time.Second):
					t.Error("token handler kept sleeping after its request context ended")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || elapsed < tc.delay {
				t.Errorf("status %d after %v", resp.StatusCode, elapsed)
			}
		})
	}
}
