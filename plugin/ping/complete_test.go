package ping

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/pingauthz/pingauthz/internal/pingemu"
	"github.com/pingauthz/pingauthz/internal/testutil"
	"github.com/pingauthz/pingauthz/plugin"
)

func TestStateErrors(t *testing.T) {
	ctx := context.Background()

	t.Run("state-mismatch", func(t *testing.T) {
		id, err := completeEditedCallback(t, func(q url.Values) { q.Set("state", q.Get("state")+"x") })
		wantErr(t, id, err, plugin.KindInvalidState, errStateMismatch)
	})

	t.Run("state-missing-on-callback", func(t *testing.T) {
		id, err := completeEditedCallback(t, func(q url.Values) { q.Del("state") })
		wantErr(t, id, err, plugin.KindInvalidState, errStateMismatch)
	})

	t.Run("crossed-callbacks", func(t *testing.T) {
		e := newTestEnv(t, envOpts{})
		cbA, _ := e.begin(t, "alice", "/a")
		_, sealedB := e.begin(t, "alice", "/b")
		id, _, err := e.rp.complete(ctx, testRedirect, sealedB, cbA.Query())
		wantErr(t, id, err, plugin.KindInvalidState, errStateMismatch)
	})

	t.Run("replayed-callback-refused-by-provider", func(t *testing.T) {
		// The relying party keeps no record of used states (the host's
		// directory consumes them); a replayed code fails at Ping.
		e := newTestEnv(t, envOpts{})
		cb, sealed := e.begin(t, "alice", "/")
		done, err := e.rp.Complete(ctx, testRedirect, sealed, cb.Query())
		if err != nil {
			t.Fatal(err)
		}
		if done.State.ID == "" || !done.State.Expires.After(time.Now()) {
			t.Fatalf("state = %+v, want an id and a future expiry", done.State)
		}
		id, _, err := e.rp.complete(ctx, testRedirect, sealed, cb.Query())
		wantErr(t, id, err, plugin.KindInvalidState, nil)
	})

	t.Run("state-not-spent-by-failed-exchange", func(t *testing.T) {
		// A failure before the code exchange and the ID token checks
		// succeed leaves the state usable: only a real login spends it.
		e := newTestEnv(t, envOpts{faults: pingemu.Faults{TokenStatus: 503}})
		cb, sealed := e.begin(t, "alice", "/")
		_, _, err := e.rp.complete(ctx, testRedirect, sealed, cb.Query())
		wantErr(t, nil, err, plugin.KindUnavailable, nil)
		e.emu.SetFaults(pingemu.Faults{})
		if _, _, err := e.rp.complete(ctx, testRedirect, sealed, cb.Query()); err != nil {
			t.Fatalf("retry after a failed exchange: %v", err)
		}
	})

	t.Run("expired-state", func(t *testing.T) {
		clk := newClock()
		e := newTestEnv(t, envOpts{rpNow: clk.Now})
		cb, sealed := e.begin(t, "alice", "/")
		clk.Advance(DefaultStateTTL + time.Second)
		id, _, err := e.rp.complete(ctx, testRedirect, sealed, cb.Query())
		wantErr(t, id, err, plugin.KindInvalidState, errStateExpired)
	})

	t.Run("missing-sealed-state", func(t *testing.T) {
		e := newTestEnv(t, envOpts{})
		cb, _ := e.begin(t, "alice", "/")
		id, _, err := e.rp.complete(ctx, testRedirect, "", cb.Query())
		wantErr(t, id, err, plugin.KindInvalidState, errStateMalformed)
	})

	t.Run("tampered-sealed-state", func(t *testing.T) {
		e := newTestEnv(t, envOpts{})
		cb, sealed := e.begin(t, "alice", "/")
		b := []byte(sealed)
		b[len(b)-5] ^= 0x01
		if b[len(b)-5] == '.' || b[len(b)-5] > 'z' {
			b[len(b)-5] = 'A'
		}
		id, _, err := e.rp.complete(ctx, testRedirect, string(b), cb.Query())
		wantErr(t, id, err, plugin.KindInvalidState, errStateMalformed)
	})

	t.Run("other-redirect-uri", func(t *testing.T) {
		e := newTestEnv(t, envOpts{})
		cb, sealed := e.begin(t, "alice", "/")
		id, _, err := e.rp.complete(ctx, "http://127.0.0.1:9/elsewhere", sealed, cb.Query())
		wantErr(t, id, err, plugin.KindInvalidState, errRedirectMismatch)
	})
}

// TestWrongPKCEVerifier reseals the first login's state with the verifier
// of a second login: the provider must refuse the code.
func TestWrongPKCEVerifier(t *testing.T) {
	e := newTestEnv(t, envOpts{clientPKCE: pingemu.PKCES256Required, mutate: pkceOn})
	cbA, sealedA := e.begin(t, "alice", "/")
	_, sealedB := e.begin(t, "alice", "/")
	a, err := e.rp.sealer.open(sealedA, testRedirect)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.rp.sealer.open(sealedB, testRedirect)
	if err != nil {
		t.Fatal(err)
	}
	if a.Verifier == "" || a.Verifier == b.Verifier {
		t.Fatalf("verifiers %q and %q", a.Verifier, b.Verifier)
	}
	a.Verifier = b.Verifier
	crossed, err := e.rp.sealer.seal(a)
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := e.rp.complete(context.Background(), testRedirect, crossed, cbA.Query())
	wantErr(t, id, err, plugin.KindInvalidState, nil)
	if le := toLoginError(err); !strings.Contains(le.Message, "invalid_grant") {
		t.Errorf("message %q does not name invalid_grant", le.Message)
	}
}

func TestProviderAndTokenErrors(t *testing.T) {
	ctx := context.Background()

	t.Run("idp-error-on-callback", func(t *testing.T) {
		var logs testutil.SyncBuffer
		e := newTestEnv(t, envOpts{faults: pingemu.Faults{CallbackError: "access_denied"}, logOutput: &logs})
		cb, sealed := e.begin(t, "alice", "/")
		if cb.Query().Get("error") != "access_denied" {
			t.Fatalf("emulator callback %s has no error", cb)
		}
		desc := cb.Query().Get("error_description")
		done, err := e.rp.Complete(ctx, testRedirect, sealed, cb.Query())
		le, ok := err.(*plugin.LoginError)
		if done != nil || !ok || le.Kind != plugin.KindProvider {
			t.Fatalf("Complete = %v, %v; want a provider_error LoginError", done, err)
		}
		if want := providerErrorSentences["access_denied"] + " (access_denied)"; le.Message != want {
			t.Errorf("message %q, want %q", le.Message, want)
		}
		if desc == "" || strings.Contains(le.Message, desc) || !strings.Contains(logs.String(), desc) {
			t.Errorf("the description %q must be in the log only; message %q", desc, le.Message)
		}
	})

	t.Run("idp-error-sanitized", func(t *testing.T) {
		var logs testutil.SyncBuffer
		e := newTestEnv(t, envOpts{logOutput: &logs})
		_, sealed := e.begin(t, "alice", "/")
		st, _ := e.rp.sealer.open(sealed, testRedirect)
		q := url.Values{"state": {st.State}, "iss": {e.emu.Issuer()}, "error": {"bad\"<code>\n"}, "error_description": {"line1\nline2\x00" + strings.Repeat("x", 500)}}
		_, _, err := e.rp.complete(ctx, testRedirect, sealed, q)
		var pe *ProviderError
		if !errorsAs(err, &pe) || pe.Code != "badcode" || strings.ContainsAny(pe.Description, "\n\x00") || len(pe.Description) > 300 {
			t.Errorf("cause %+v not sanitized", pe)
		}
		_, err = e.rp.Complete(ctx, testRedirect, sealed, q)
		if msg := toLoginError(err).Message; msg != providerErrorGeneric {
			t.Errorf("message %q, want the generic sentence", msg)
		}
		if log := logs.String(); !strings.Contains(log, "line1 line2") || strings.Contains(log, "line1\n") {
			t.Errorf("the sanitized description is not in the log:\n%s", log)
		}
	})

	t.Run("expired-id-token", func(t *testing.T) {
		e := newTestEnv(t, envOpts{faults: pingemu.Faults{Expired: true}})
		id, _, err := e.login(t, "alice")
		wantErr(t, id, err, plugin.KindVerification, errExpired)
	})

	t.Run("token-endpoint-timeout", func(t *testing.T) {
		// The token endpoint hangs for a minute and the HTTP client has no
		// timeout of its own: only ExchangeTimeout (which also bounds
		// discovery, so it is not tiny) can end the exchange, with a
		// deadline error; without it the login would succeed after the
		// minute.
		e := newTestEnv(t, envOpts{faults: pingemu.Faults{TokenDelay: time.Minute}, exchangeTO: 2 * time.Second, noClientTimeout: true})
		cb, sealed := e.begin(t, "alice", "/")
		id, _, err := e.rp.complete(ctx, testRedirect, sealed, cb.Query())
		wantErr(t, id, err, plugin.KindUnavailable, context.DeadlineExceeded)
		if msg := toLoginError(err).Message; !strings.Contains(msg, "did not answer in time") {
			t.Errorf("message %q does not say the provider timed out", msg)
		}
	})

	t.Run("token-endpoint-5xx", func(t *testing.T) {
		e := newTestEnv(t, envOpts{faults: pingemu.Faults{TokenStatus: 500}})
		id, _, err := e.login(t, "alice")
		wantErr(t, id, err, plugin.KindUnavailable, nil)
	})

	t.Run("token-endpoint-4xx", func(t *testing.T) {
		e := newTestEnv(t, envOpts{faults: pingemu.Faults{TokenStatus: 400}})
		id, _, err := e.login(t, "alice")
		wantErr(t, id, err, plugin.KindVerification, nil)
	})

	t.Run("client-auth-mismatch-no-retry", func(t *testing.T) {
		// The provider wants post; the configuration forces basic. The code
		// must be sent once only.
		e := newTestEnv(t, envOpts{clientAuth: AuthClientSecretPost, mutate: func(c *cfgT, _ *pingemu.Server) {
			c.TokenEndpointAuthMethod = AuthClientSecretBasic
		}})
		id, _, err := e.login(t, "alice")
		wantErr(t, id, err, plugin.KindVerification, nil)
		if n := len(e.rec.to(e.emu.TokenURL())); n != 1 {
			t.Errorf("token endpoint called %d times, want 1", n)
		}
		if msg := toLoginError(err).Message; !strings.Contains(msg, "token_endpoint_auth_method") {
			t.Errorf("message %q does not point at token_endpoint_auth_method", msg)
		}
	})

	t.Run("callback-iss-mismatch", func(t *testing.T) {
		id, err := completeEditedCallback(t, func(q url.Values) { q.Set("iss", "https://evil.example/as") })
		wantErr(t, id, err, plugin.KindVerification, errCallbackIssuer)
	})

	t.Run("callback-iss-missing", func(t *testing.T) {
		id, err := completeEditedCallback(t, func(q url.Values) { q.Del("iss") }) // the emulator advertises RFC 9207
		wantErr(t, id, err, plugin.KindVerification, errCallbackNoIssuer)
	})

	t.Run("callback-repeated-code", func(t *testing.T) {
		id, err := completeEditedCallback(t, func(q url.Values) { q.Add("code", "another") })
		wantErr(t, id, err, plugin.KindInvalidInput, errDuplicateParam)
	})

	t.Run("callback-without-code", func(t *testing.T) {
		id, err := completeEditedCallback(t, func(q url.Values) { q.Del("code") })
		wantErr(t, id, err, plugin.KindInvalidInput, errNoCode)
	})
}

// TestClockSkew checks exp and iat tolerate ClockSkew and no more.
func TestClockSkew(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offset time.Duration // relying party clock minus provider clock
		ttl    time.Duration
		cause  error
	}{
		{"exp-within-skew", 50 * time.Second, 20 * time.Second, nil},
		{"exp-beyond-skew", 2 * time.Minute, 20 * time.Second, errExpired},
		{"iat-ahead-within-skew", -50 * time.Second, time.Hour, nil},
		{"iat-ahead-beyond-skew", -2 * time.Minute, time.Hour, errIatFuture},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			rpNow := func() time.Time { return clk.Now().Add(tc.offset) }
			e := newTestEnv(t, envOpts{emuNow: clk.Now, rpNow: rpNow, idTokenTTL: tc.ttl})
			id, _, err := e.login(t, "alice")
			if tc.cause == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, id, err, plugin.KindVerification, tc.cause)
		})
	}
}

// completeEditedCallback begins alice's login in a default environment, lets
// edit change the callback query, and completes the login with it.
func completeEditedCallback(t *testing.T, edit func(url.Values)) (*sso.Identity, error) {
	t.Helper()
	e := newTestEnv(t, envOpts{})
	cb, sealed := e.begin(t, "alice", "/")
	q := cb.Query()
	edit(q)
	id, _, err := e.rp.complete(context.Background(), testRedirect, sealed, q)
	return id, err
}

// TestProviderErrorMessages: every callback error code gets a fixed
// message; a crafted description or code never reaches it.
func TestProviderErrorMessages(t *testing.T) {
	const crafted = "Your account is locked. Call +1 555 0100 and give your password to unlock it"
	e := newTestEnv(t, envOpts{})
	_, sealed := e.begin(t, "alice", "/")
	st, err := e.rp.sealer.open(sealed, testRedirect)
	if err != nil {
		t.Fatal(err)
	}
	codes := []string{"call_555_0100_to_unlock", "x"}
	for code := range providerErrorSentences {
		codes = append(codes, code)
	}
	for _, code := range codes {
		t.Run(code, func(t *testing.T) {
			q := url.Values{"state": {st.State}, "iss": {e.emu.Issuer()}, "error": {code}, "error_description": {crafted}}
			_, _, err := e.rp.complete(context.Background(), testRedirect, sealed, q)
			le := toLoginError(err)
			if le.Kind != plugin.KindProvider || strings.Contains(le.Message, "555") || strings.Contains(le.Message, "locked") {
				t.Fatalf("%s %q shows crafted text", le.Kind, le.Message)
			}
			sentence, known := providerErrorSentences[code]
			switch {
			case known && le.Message != sentence+" ("+code+")":
				t.Errorf("message %q, want its sentence and code", le.Message)
			case !known && le.Message != providerErrorGeneric:
				t.Errorf("message %q, want the generic sentence", le.Message)
			}
		})
	}
}
