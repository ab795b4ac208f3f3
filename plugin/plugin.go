// Package plugin is the contract between pingauthz and its plugin binary:
// the Authenticator interface, the go-plugin handshake, the gRPC adapters and
// the helpers both sides use to serve and launch it. It does not supervise or
// restart a plugin; the host package does.
package plugin

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os/exec"
	"runtime"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// PluginName is the name under which both sides serve and dispense the
// Authenticator.
const PluginName = "authenticator"

// MaxMessageSize bounds a gRPC message in either direction. It is raised
// from gRPC's 4 MiB default so that a directory with 100,000 groups fits.
const MaxMessageSize = 64 << 20

// windowSize is the HTTP/2 flow-control window of each stream and of the
// connection, on both sides. A fixed window turns off gRPC's window
// estimation, whose PING frames went with nearly every call (one more write
// and wake-up in each process); 1 MiB still streams a large SetDirectory
// without stalling on window updates.
const windowSize = 1 << 20

// Handshake is the go-plugin handshake both sides must agree on. The cookie
// only keeps the binary from being run by hand; it is not a secret. Version
// 2 decides a login within Complete; a host and a plugin of different
// versions refuse each other at the handshake.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  2,
	MagicCookieKey:   "PINGAUTHZ_PLUGIN",
	MagicCookieValue: "7c1e5a2f-authenticator-9b04d3e6",
}

// PluginMap is the set of plugins the host may dispense.
var PluginMap = map[string]goplugin.Plugin{
	PluginName: &GRPCPlugin{},
}

// Serve serves impl as the plugin of the current process. It blocks until
// the host ends the plugin, and it exits the process when the handshake
// cookie is missing, as go-plugin does.
func Serve(impl Authenticator, logger hclog.Logger) {
	goplugin.Serve(serveConfig(impl, logger))
}

func serveConfig(impl Authenticator, logger hclog.Logger) *goplugin.ServeConfig {
	return &goplugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         goplugin.PluginSet{PluginName: &GRPCPlugin{Impl: impl}},
		GRPCServer:      NewGRPCServer,
		Logger:          logger,
	}
}

// NewGRPCServer is go-plugin's default gRPC server with the message size
// limits raised to MaxMessageSize, a fixed flow-control window and a pool
// of long-lived handler goroutines. Policy evaluation recurses deeply; on a
// fresh goroutine per call (gRPC's default) growing the stack cost more
// than the evaluation.
// go-plugin's own streams (stdio, broker) hold a few workers for good, so
// the pool is larger than GOMAXPROCS; calls beyond it get fresh goroutines.
func NewGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	workers := uint32(4*runtime.GOMAXPROCS(0) + 4)
	opts = append(opts,
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.NumStreamWorkers(workers),
		grpc.InitialWindowSize(windowSize),
		grpc.InitialConnWindowSize(windowSize))
	return goplugin.DefaultGRPCServer(opts)
}

// ClientConfig returns the go-plugin client configuration for launching the
// plugin binary of cmd over gRPC with automatic mutual TLS. With a non-empty
// checksum (SHA-256 of the binary) the binary is verified before it runs.
// The connection uses the same fixed flow-control window as NewGRPCServer.
// The caller may set further fields (StartTimeout, Stderr, ...). A config
// serves one launch: cmd and the checksum's hash cannot be reused, so call
// ClientConfig again to restart a plugin.
func ClientConfig(cmd *exec.Cmd, checksum []byte, logger hclog.Logger) *goplugin.ClientConfig {
	cfg := &goplugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          PluginMap,
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           logger,
		GRPCDialOptions: []grpc.DialOption{
			grpc.WithInitialWindowSize(windowSize),
			grpc.WithInitialConnWindowSize(windowSize),
		},
	}
	if len(checksum) > 0 {
		cfg.SecureConfig = &goplugin.SecureConfig{Checksum: checksum, Hash: sha256.New()}
	}
	return cfg
}

// Dispense connects to a started (or starting) plugin client and returns its
// Authenticator. It starts the plugin process if it is not running yet.
func Dispense(c *goplugin.Client) (Authenticator, error) {
	rpc, err := c.Client()
	if err != nil {
		return nil, fmt.Errorf("plugin: starting the plugin: %w", err)
	}
	raw, err := rpc.Dispense(PluginName)
	if err != nil {
		return nil, fmt.Errorf("plugin: dispensing %q: %w", PluginName, err)
	}
	a, ok := raw.(Authenticator)
	if !ok {
		return nil, errors.New("plugin: the dispensed plugin is not an Authenticator")
	}
	return a, nil
}
