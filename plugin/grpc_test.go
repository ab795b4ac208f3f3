package plugin

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// connect serves f over an in-process gRPC connection and returns the
// host-side Authenticator.
func connect(t testing.TB, f *fake) Authenticator {
	t.Helper()
	client, server := goplugin.TestPluginGRPCConn(t, false, map[string]goplugin.Plugin{
		PluginName: &GRPCPlugin{Impl: f},
	})
	t.Cleanup(func() {
		// Stop the server first: Close asks it to stop too, and go-plugin's
		// Stop is not safe to run twice at once.
		server.Stop()
		_ = client.Close()
	})
	raw, err := client.Dispense(PluginName)
	if err != nil {
		t.Fatalf("Dispense: %v", err)
	}
	a, ok := raw.(Authenticator)
	if !ok {
		t.Fatalf("dispensed %T, not an Authenticator", raw)
	}
	return a
}

func ptr[T any](v T) *T { return &v }

func TestInfoRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		info *Info
		want *Info
	}{
		{"full", &Info{
			Provider:       "ping",
			CallbackPath:   "/callback_ping",
			Config:         map[string]string{"client_id": "abc", "client_secret": "****", "scopes": "openid,email"},
			PolicyRevision: "sha256:0123",
			BundleRevision: "2030-01-02",
			Stats: Stats{PolicyReloads: 3, PolicyReloadFailures: 1, PolicyLastError: "x.rego:3: rego_parse_error",
				DecisionLogEvents: 10, DecisionLogMaskFailures: 1, DecisionLogBuffered: 4, DecisionLogDropped: 2,
				DecisionLogChunksUploaded: 5, DecisionLogUploadFailures: 6, Goroutines: 7},
		}, nil},
		{"empty", &Info{Config: map[string]string{}}, &Info{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := connect(t, &fake{info: tt.info})
			got, err := a.Info(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == nil {
				want = tt.info
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Info = %+v, want %+v", got, want)
			}
		})
	}
}

func TestBeginRoundTrip(t *testing.T) {
	f := &fake{begin: &BeginResponse{AuthURL: "https://auth.example/as/authorize?x=1&y=%20", SealedState: "sealed.v1.abc"}}
	a := connect(t, f)
	req := &BeginRequest{RedirectURI: "https://ml.example/callback_ping", ReturnTo: "/projects?a=b"}
	got, err := a.Begin(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, f.begin) {
		t.Errorf("Begin = %+v, want %+v", got, f.begin)
	}
	if !reflect.DeepEqual(f.gotBegin, req) {
		t.Errorf("plugin got %+v, want %+v", f.gotBegin, req)
	}
}

func TestCompleteRoundTrip(t *testing.T) {
	claims := map[string]any{
		"sub":       "8f9c",
		"p1.region": "NA",
		"groups":    []any{"ML Team", "cn=Ops,ou=groups,dc=example,dc=com"},
	}
	decision := &sso.Decision{Allow: true, Company: "c1", Role: ptr("admin"), SyncGroups: true,
		Groups: []string{"ML Team"}, Reasons: []string{"login:existing_user"}, DecisionID: "d-1"}
	tests := []struct {
		name string
		id   sso.Identity
		user *sso.User
		want sso.Identity // what the host gets: no claims
	}{
		{"verified, existing user", sso.Identity{
			Issuer: "https://auth.pingone.com/env/as", Subject: "8f9c", UserID: "8f9c",
			Email: "zoe@example.com", EmailVerified: ptr(true), Name: "Zoë ☕",
			Groups: []string{"ML Team", "Ops"}, Claims: claims,
		}, &sso.User{ID: "u1", Company: "c1", Role: "user", Groups: []string{"Ops"}}, sso.Identity{
			Issuer: "https://auth.pingone.com/env/as", Subject: "8f9c", UserID: "8f9c",
			Email: "zoe@example.com", EmailVerified: ptr(true), Name: "Zoë ☕",
			Groups: []string{"ML Team", "Ops"},
		}},
		{"unverified, first login", sso.Identity{Subject: "s", EmailVerified: ptr(false), Groups: []string{"a"}, Claims: map[string]any{"k": "v"}},
			nil, sso.Identity{Subject: "s", EmailVerified: ptr(false), Groups: []string{"a"}}},
		{"no email_verified, no groups, no claims",
			sso.Identity{Subject: "s", Groups: []string{}, Claims: map[string]any{}}, nil,
			sso.Identity{Subject: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := sso.LoginState{ID: "ST8Q", Expires: time.UnixMilli(1_796_592_339_123)}
			f := &fake{complete: &CompleteResponse{Identity: tt.id, Decision: decision, ReturnTo: "/dashboard", State: state}}
			a := connect(t, f)
			req := &CompleteRequest{
				RedirectURI: "https://ml.example/callback_ping",
				SealedState: "sealed",
				Query:       map[string]string{"state": "st", "code": "c0de", "iss": "https://auth.pingone.com/env/as"},
			}
			var looked *sso.Identity
			got, err := a.Complete(context.Background(), req, func(_ context.Context, id *sso.Identity) (*sso.User, error) {
				c := *id
				looked = &c
				return tt.user, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := &CompleteResponse{Identity: tt.want, Decision: decision, ReturnTo: "/dashboard", State: state}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Complete =\n%#v\nwant\n%#v", got, want)
			}
			if looked == nil || !reflect.DeepEqual(*looked, tt.want) {
				t.Errorf("lookup got %#v, want %#v", looked, tt.want)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if !reflect.DeepEqual(f.gotComplete, req) {
				t.Errorf("plugin got %+v, want %+v", f.gotComplete, req)
			}
			if !f.looked || !reflect.DeepEqual(f.gotUser, tt.user) {
				t.Errorf("plugin's lookup got %#v (looked %v), want %#v", f.gotUser, f.looked, tt.user)
			}
		})
	}
}

// TestCompleteLookupFails checks that a failing lookup ends the call with
// its own error, and the plugin's Complete sees the call end.
func TestCompleteLookupFails(t *testing.T) {
	f := &fake{complete: &CompleteResponse{Identity: sso.Identity{Subject: "s"}, Decision: &sso.Decision{Reasons: []string{"x"}}}}
	a := connect(t, f)
	lookupErr := errors.New("store: find user: disk on fire")
	_, err := a.Complete(context.Background(), &CompleteRequest{}, func(context.Context, *sso.Identity) (*sso.User, error) {
		return nil, lookupErr
	})
	if !errors.Is(err, lookupErr) {
		t.Fatalf("Complete = %v, want the lookup's error", err)
	}
}

// TestCompleteWithoutLookup checks that a plugin that decides without
// asking for the user is refused: the decision would ignore the user.
func TestCompleteWithoutLookup(t *testing.T) {
	f := &fake{noLookup: true, complete: &CompleteResponse{Identity: sso.Identity{Subject: "s"}, Decision: &sso.Decision{Reasons: []string{"x"}}}}
	a := connect(t, f)
	_, err := a.Complete(context.Background(), &CompleteRequest{}, func(context.Context, *sso.Identity) (*sso.User, error) {
		t.Error("lookup called")
		return nil, nil
	})
	if err == nil || !strings.Contains(err.Error(), "without looking the user up") {
		t.Fatalf("Complete = %v, want a refusal", err)
	}
}

func TestSetDirectoryRoundTrip(t *testing.T) {
	full := &sso.Directory{
		Companies: map[string]sso.Company{
			"c1": {Name: "Acme", Groups: []string{"ML Team", "Ops"}},
			"c2": {Name: "Empty"},
		},
		Whitelist: sso.Whitelist{
			Emails:  map[string]sso.WhitelistEntry{"boss@acme.com": {Company: "c1", IsAdmin: true}},
			Domains: map[string]sso.WhitelistEntry{"acme.com": {Company: "c1"}},
		},
	}
	tests := []struct {
		name      string
		dir, want *sso.Directory
	}{
		{"full", full, full},
		{"empty", &sso.Directory{Companies: map[string]sso.Company{}}, &sso.Directory{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fake{}
			a := connect(t, f)
			if err := a.SetDirectory(context.Background(), tt.dir); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.gotDir, tt.want) {
				t.Errorf("plugin got %#v, want %#v", f.gotDir, tt.want)
			}
		})
	}
}

func TestDecideRoundTrip(t *testing.T) {
	identity := sso.Identity{
		Issuer: "https://pf.example:9031", Subject: "jdoe", UserID: "jdoe", Email: "j@example.com",
		Name: "J Doe", Groups: []string{"ML Team"},
		Claims: map[string]any{"memberOf": []any{"cn=ML Team,dc=example"}, "n": map[string]any{"a": 1.0}},
	}
	tests := []struct {
		name     string
		in       *sso.Input
		decision *sso.Decision
	}{
		{"first login, role kept", &sso.Input{Identity: identity},
			&sso.Decision{Allow: true, Signup: true, Company: "c1", Reasons: []string{"signup:default_company"}}},
		{"existing user, admin", &sso.Input{Identity: identity, User: &sso.User{ID: "u1", Company: "c1", Role: "user", Groups: []string{"Ops"}}},
			&sso.Decision{Allow: true, Company: "c1", Role: ptr("admin"), SyncGroups: true, Groups: []string{"ML Team"},
				Reasons: []string{"existing_user", "role:admin_group"}}},
		{"deny", &sso.Input{Identity: sso.Identity{Subject: "x", EmailVerified: ptr(false)}},
			&sso.Decision{Reasons: []string{"deny:email_not_verified"}, DecisionID: "0b6f4c1e-5d2a-4f7e-9c3b-1a2b3c4d5e6f"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fake{decision: tt.decision}
			a := connect(t, f)
			got, err := a.Decide(context.Background(), tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.decision) {
				t.Errorf("Decide = %#v, want %#v", got, tt.decision)
			}
			if !reflect.DeepEqual(f.gotInput, tt.in) {
				t.Errorf("plugin got %#v, want %#v", f.gotInput, tt.in)
			}
		})
	}
}

// methods calls each method of an Authenticator with a minimal request.
func methods() map[string]func(context.Context, Authenticator) error {
	return map[string]func(context.Context, Authenticator) error{
		"Info":  func(ctx context.Context, a Authenticator) error { _, err := a.Info(ctx); return err },
		"Begin": func(ctx context.Context, a Authenticator) error { _, err := a.Begin(ctx, &BeginRequest{}); return err },
		"Complete": func(ctx context.Context, a Authenticator) error {
			_, err := a.Complete(ctx, &CompleteRequest{}, func(context.Context, *sso.Identity) (*sso.User, error) { return nil, nil })
			return err
		},
		"SetDirectory": func(ctx context.Context, a Authenticator) error { return a.SetDirectory(ctx, &sso.Directory{}) },
		"Decide":       func(ctx context.Context, a Authenticator) error { _, err := a.Decide(ctx, &sso.Input{}); return err },
	}
}

// calls runs every method of a and returns their errors by method name.
func calls(ctx context.Context, a Authenticator) map[string]error {
	errs := map[string]error{}
	for name, call := range methods() {
		errs[name] = call(ctx, a)
	}
	return errs
}

func TestLoginErrorRoundTrip(t *testing.T) {
	kinds := []ErrorKind{KindInternal, KindInvalidState, KindProvider, KindVerification, KindUnavailable, KindInvalidInput}
	for _, kind := range kinds {
		for _, wrapped := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/wrapped=%v", kind, wrapped), func(t *testing.T) {
				var sent error = &LoginError{Kind: kind, Message: "the " + kind.String() + " message"}
				if wrapped {
					sent = fmt.Errorf("ping: context: %w", sent)
				}
				a := connect(t, &fake{err: sent})
				for method, err := range calls(context.Background(), a) {
					var le *LoginError
					if !errors.As(err, &le) {
						t.Fatalf("%s: error %v (%T) is not a *LoginError", method, err, err)
					}
					if le.Kind != kind || le.Message != "the "+kind.String()+" message" {
						t.Errorf("%s: got %+v, want kind %s", method, le, kind)
					}
				}
			})
		}
	}
}

func TestOtherErrorsBecomeInternal(t *testing.T) {
	a := connect(t, &fake{err: errors.New("rego: evaluation failed")})
	for method, err := range calls(context.Background(), a) {
		var le *LoginError
		if !errors.As(err, &le) || le.Kind != KindInternal || le.Message != "rego: evaluation failed" {
			t.Errorf("%s: got %v, want an internal LoginError", method, err)
		}
	}
}

func TestDeadlinePropagates(t *testing.T) {
	// gRPC sends the time left, so the plugin's deadline is the host's
	// moved later by however long the call took to arrive: it lies
	// between the host's deadline and that plus the trip, whatever the
	// load. The calls run at once so the test waits for one deadline only.
	const wait, rounding = time.Second, time.Millisecond
	type result struct {
		f              *fake
		sent, deadline time.Time
		err            error
	}
	results := map[string]*result{}
	var wg sync.WaitGroup
	for name, call := range methods() {
		r := &result{f: &fake{block: true}}
		results[name] = r
		a := connect(t, r.f)
		wg.Go(func() {
			r.sent = time.Now()
			r.deadline = r.sent.Add(wait)
			ctx, cancel := context.WithDeadline(context.Background(), r.deadline)
			defer cancel()
			r.err = call(ctx, a)
		})
	}
	wg.Wait()
	for name, r := range results {
		t.Run(name, func(t *testing.T) {
			if !errors.Is(r.err, context.DeadlineExceeded) {
				t.Fatalf("error %v, want one wrapping context.DeadlineExceeded", r.err)
			}
			var le *LoginError
			if errors.As(r.err, &le) {
				t.Errorf("a deadline came back as a LoginError: %v", r.err)
			}
			r.f.mu.Lock()
			defer r.f.mu.Unlock()
			if !r.f.hadDeadline {
				t.Fatal("the plugin saw no deadline")
			}
			trip := r.f.arrived.Sub(r.sent)
			if early, late := r.deadline.Add(-rounding), r.deadline.Add(trip+rounding); r.f.gotDeadline.Before(early) || r.f.gotDeadline.After(late) {
				t.Errorf("the plugin saw deadline %v; want between %v and %v (the host's, plus the %v trip)",
					r.f.gotDeadline, early, late, trip)
			}
		})
	}
}

func TestCancelPropagates(t *testing.T) {
	f := &fake{block: true, entered: make(chan struct{}, 1), left: make(chan error, 1)}
	a := connect(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- methods()["Decide"](ctx, a) }()
	<-f.entered // the call is in the plugin
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want one wrapping context.Canceled", err)
	}
	if err := <-f.left; !errors.Is(err, context.Canceled) {
		t.Fatalf("the plugin's context ended with %v, want context.Canceled", err)
	}
}

func TestPluginContextErrors(t *testing.T) {
	// The plugin gives up on its own (an internal timeout): the host sees
	// the context error, not a LoginError.
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"deadline", fmt.Errorf("ping: exchange: %w", context.DeadlineExceeded), context.DeadlineExceeded},
		{"canceled", context.Canceled, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := connect(t, &fake{err: tt.err})
			err := methods()["Decide"](context.Background(), a)
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v, want one wrapping %v", err, tt.want)
			}
		})
	}
}

func TestStatusCodes(t *testing.T) {
	// Tools that read only the status code see the kind's code.
	for kind, want := range map[ErrorKind]codes.Code{
		KindInternal:     codes.Internal,
		KindInvalidState: codes.FailedPrecondition,
		KindProvider:     codes.PermissionDenied,
		KindVerification: codes.Unauthenticated,
		KindUnavailable:  codes.Unavailable,
		KindInvalidInput: codes.InvalidArgument,
		ErrorKind(42):    codes.Internal,
	} {
		t.Run(kind.String(), func(t *testing.T) {
			err := toStatus(&LoginError{Kind: kind, Message: "m"})
			if got := status.Code(err); got != want {
				t.Errorf("code %v, want %v", got, want)
			}
		})
	}
}

func TestTransportErrorIsNotALoginError(t *testing.T) {
	client, server := goplugin.TestPluginGRPCConn(t, false, map[string]goplugin.Plugin{
		PluginName: &GRPCPlugin{Impl: &fake{info: &Info{}}},
	})
	defer client.Close()
	raw, err := client.Dispense(PluginName)
	if err != nil {
		t.Fatal(err)
	}
	server.Stop()
	_, err = raw.(Authenticator).Info(context.Background())
	var le *LoginError
	if err == nil || errors.As(err, &le) {
		t.Fatalf("error %v, want a transport error", err)
	}
	if status.Code(err) != codes.Unavailable {
		t.Errorf("code %v, want Unavailable", status.Code(err))
	}
}

func TestNilRequests(t *testing.T) {
	a := connect(t, &fake{})
	ctx := context.Background()
	_, errBegin := a.Begin(ctx, nil)
	_, errComplete := a.Complete(ctx, nil, nil)
	_, errDecide := a.Decide(ctx, nil)
	for name, err := range map[string]error{
		"Begin": errBegin, "Complete": errComplete, "SetDirectory": a.SetDirectory(ctx, nil), "Decide": errDecide,
	} {
		var le *LoginError
		if !errors.As(err, &le) || le.Kind != KindInvalidInput {
			t.Errorf("%s(nil): got %v, want an invalid_input LoginError", name, err)
		}
	}
}

func TestNilResponsesAreInternal(t *testing.T) {
	a := connect(t, &fake{})
	for name, err := range calls(context.Background(), a) {
		if name == "SetDirectory" {
			continue
		}
		var le *LoginError
		if !errors.As(err, &le) || le.Kind != KindInternal {
			t.Errorf("%s: got %v, want an internal LoginError", name, err)
		}
	}
}
