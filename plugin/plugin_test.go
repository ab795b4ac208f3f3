package plugin

import (
	"context"
	"fmt"
	"os/exec"
	"reflect"
	"testing"

	"github.com/pingauthz/pingauthz/sso"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// serveInProcess serves f with the configuration Serve uses, in test mode,
// and returns a host-side Authenticator configured as ClientConfig does.
func serveInProcess(t *testing.T, f *fake) Authenticator {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *goplugin.ReattachConfig, 1)
	closed := make(chan struct{})
	cfg := serveConfig(f, hclog.NewNullLogger())
	cfg.Test = &goplugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed}
	go goplugin.Serve(cfg)
	var rc *goplugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-closed:
		t.Fatal("the plugin stopped before serving")
	}
	ccfg := ClientConfig(nil, nil, hclog.NewNullLogger())
	ccfg.Cmd, ccfg.AutoMTLS, ccfg.Reattach = nil, false, rc
	client := goplugin.NewClient(ccfg)
	t.Cleanup(func() {
		client.Kill()
		cancel()
		<-closed
	})
	a, err := Dispense(client)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestLargeDirectoryFits(t *testing.T) {
	// 100,000 groups of 60-byte names (6 MB): well over gRPC's 4 MiB default.
	dir := &sso.Directory{Companies: map[string]sso.Company{}}
	for c := range 100 {
		groups := make([]string, 1000)
		for g := range groups {
			groups[g] = fmt.Sprintf("company-%03d-group-%05d-with-a-long-descriptive-name-padding", c, g)
		}
		dir.Companies[fmt.Sprintf("c%03d", c)] = sso.Company{Name: fmt.Sprintf("Company %d", c), Groups: groups}
	}
	f := &fake{}
	a := serveInProcess(t, f)
	if err := a.SetDirectory(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !reflect.DeepEqual(f.gotDir, dir) {
		t.Error("the plugin got a different directory")
	}
}

func TestClientConfig(t *testing.T) {
	cmd := exec.Command("/bin/true")
	logger := hclog.NewNullLogger()
	tests := []struct {
		name     string
		checksum []byte
		secure   bool
	}{
		{"no checksum", nil, false},
		{"checksum", make([]byte, 32), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ClientConfig(cmd, tt.checksum, logger)
			if cfg.Cmd != cmd || cfg.Logger != logger || !cfg.AutoMTLS || cfg.HandshakeConfig != Handshake {
				t.Errorf("config %+v", cfg)
			}
			if !reflect.DeepEqual(cfg.AllowedProtocols, []goplugin.Protocol{goplugin.ProtocolGRPC}) {
				t.Errorf("protocols %v, want only gRPC", cfg.AllowedProtocols)
			}
			if _, ok := cfg.Plugins[PluginName].(*GRPCPlugin); !ok {
				t.Errorf("plugins %v lack %q", cfg.Plugins, PluginName)
			}
			if got := cfg.SecureConfig != nil; got != tt.secure {
				t.Fatalf("SecureConfig set = %v, want %v", got, tt.secure)
			}
			if tt.secure && (!reflect.DeepEqual(cfg.SecureConfig.Checksum, tt.checksum) || cfg.SecureConfig.Hash.Size() != 32) {
				t.Errorf("SecureConfig %+v, want SHA-256 of the checksum", cfg.SecureConfig)
			}
		})
	}
}

func TestGRPCPluginWithoutImpl(t *testing.T) {
	if err := (&GRPCPlugin{}).GRPCServer(nil, NewGRPCServer(nil)); err == nil {
		t.Error("serving no implementation succeeded")
	}
}
