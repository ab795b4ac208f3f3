package host

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/plugin"
	"github.com/pingauthz/pingauthz/sso"
)

// call is one report to Config.OnCall.
type call struct {
	method string
	err    error
}

// TestOnCall reports every call to the real plugin once, with its final
// error: a plugin's answer, a call retried on a restarted plugin, and a
// call on a closed Plugin.
func TestOnCall(t *testing.T) {
	var mu sync.Mutex
	var calls []call
	take := func() []call {
		mu.Lock()
		defer mu.Unlock()
		out := calls
		calls = nil
		return out
	}
	src := &dirSource{dir: whitelisting("acme.com")}
	bin := pluginBinary(t)
	logger, _ := testLogger(t)
	p, err := Start(context.Background(), Config{
		PluginPath: bin, Env: emulatorEnv(t), SkipHostEnv: true, Logger: logger,
		CallTimeout: 20 * time.Second, Directory: src.read,
		OnCall: func(method string, err error) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, call{method, err})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := take(); len(got) != 0 {
		t.Fatalf("the launch's directory push was reported as a call: %v", got)
	}

	decide(t, p)
	if err := p.PushDirectory(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, cerr := p.Complete(context.Background(), &plugin.CompleteRequest{
		RedirectURI: "http://127.0.0.1:8080/callback_ping", SealedState: "forged", Query: map[string]string{"state": "x", "code": "y"},
	}, func(context.Context, *sso.Identity) (*sso.User, error) { return nil, nil })
	var le *plugin.LoginError
	if !errors.As(cerr, &le) {
		t.Fatalf("Complete with a forged state: %v, want a LoginError", cerr)
	}
	got := take()
	if len(got) != 3 || got[0] != (call{"Decide", nil}) || got[1] != (call{"SetDirectory", nil}) ||
		got[2].method != "Complete" || !errors.As(got[2].err, &le) {
		t.Fatalf("calls %v, want Decide and SetDirectory without error, then Complete with its LoginError", got)
	}

	// The connection breaks under the call, which succeeds on a restarted
	// plugin: one report, without error.
	p.signal(t, syscall.SIGKILL)
	decide(t, p)
	if got := take(); len(got) != 1 || got[0] != (call{"Decide", nil}) {
		t.Fatalf("calls across a restart %v, want one Decide without error", got)
	}
	if p.Restarts() != 1 {
		t.Fatalf("restarts %d", p.Restarts())
	}

	p.Close()
	if _, err := p.Info(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Info on a closed plugin: %v", err)
	}
	if got := take(); len(got) != 1 || got[0].method != "Info" || !errors.Is(got[0].err, ErrClosed) {
		t.Fatalf("calls %v, want Info with ErrClosed", got)
	}
}
