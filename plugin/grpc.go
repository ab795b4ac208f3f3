package plugin

import (
	"context"
	"errors"

	"github.com/pingauthz/pingauthz/sso"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/pingauthz/pingauthz/plugin/proto"
)

var _ goplugin.GRPCPlugin = &GRPCPlugin{}

// GRPCPlugin serves an Authenticator over gRPC (plugin side) and dispenses a
// client for it (host side). It does not support net/rpc.
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	// Impl is the served implementation; the host side leaves it nil.
	Impl Authenticator
}

// GRPCServer registers the Authenticator service on s.
func (p *GRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("plugin: GRPCPlugin has no implementation to serve")
	}
	pb.RegisterAuthenticatorServer(s, &GRPCServer{Impl: p.Impl})
	return nil
}

// GRPCClient returns an Authenticator that calls the plugin over c.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewGRPCClient(c), nil
}

// GRPCServer translates gRPC calls into calls of an Authenticator.
type GRPCServer struct {
	pb.UnimplementedAuthenticatorServer
	Impl Authenticator
}

var _ pb.AuthenticatorServer = &GRPCServer{}

// Info implements pb.AuthenticatorServer.
func (s *GRPCServer) Info(ctx context.Context, _ *pb.InfoRequest) (*pb.InfoResponse, error) {
	info, err := s.Impl.Info(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	if info == nil {
		return nil, toStatus(errors.New("plugin: Info returned nothing"))
	}
	return &pb.InfoResponse{
		Provider:       info.Provider,
		CallbackPath:   info.CallbackPath,
		Config:         info.Config,
		PolicyRevision: info.PolicyRevision,
		BundleRevision: info.BundleRevision,
		Stats:          statsToProto(&info.Stats),
	}, nil
}

// Begin implements pb.AuthenticatorServer.
func (s *GRPCServer) Begin(ctx context.Context, req *pb.BeginRequest) (*pb.BeginResponse, error) {
	resp, err := s.Impl.Begin(ctx, &BeginRequest{RedirectURI: req.GetRedirectUri(), ReturnTo: req.GetReturnTo()})
	if err != nil {
		return nil, toStatus(err)
	}
	if resp == nil {
		return nil, toStatus(errors.New("plugin: Begin returned nothing"))
	}
	return &pb.BeginResponse{AuthUrl: resp.AuthURL, SealedState: resp.SealedState}, nil
}

// SetDirectory implements pb.AuthenticatorServer.
func (s *GRPCServer) SetDirectory(ctx context.Context, req *pb.SetDirectoryRequest) (*pb.SetDirectoryResponse, error) {
	if req.GetDirectory() == nil {
		return nil, toStatus(&LoginError{Kind: KindInvalidInput, Message: "SetDirectory without a directory"})
	}
	if err := s.Impl.SetDirectory(ctx, directoryFromProto(req.GetDirectory())); err != nil {
		return nil, toStatus(err)
	}
	return &pb.SetDirectoryResponse{}, nil
}

// Decide implements pb.AuthenticatorServer.
func (s *GRPCServer) Decide(ctx context.Context, req *pb.DecideRequest) (*pb.DecideResponse, error) {
	in, err := inputFromProto(req)
	if err != nil {
		return nil, toStatus(&LoginError{Kind: KindInvalidInput, Message: err.Error()})
	}
	d, err := s.Impl.Decide(ctx, in)
	if err != nil {
		return nil, toStatus(err)
	}
	if d == nil {
		return nil, toStatus(errors.New("plugin: Decide returned nothing"))
	}
	return &pb.DecideResponse{Decision: decisionToProto(d)}, nil
}

// GRPCClient is the host side's Authenticator: it calls the plugin over
// gRPC. It does not retry or restart a plugin that died; its errors say so.
type GRPCClient struct {
	client pb.AuthenticatorClient
	opts   []grpc.CallOption
}

var _ Authenticator = &GRPCClient{}

// NewGRPCClient returns an Authenticator calling the service on conn, with
// message size limits raised to MaxMessageSize.
func NewGRPCClient(conn grpc.ClientConnInterface) *GRPCClient {
	return &GRPCClient{
		client: pb.NewAuthenticatorClient(conn),
		opts:   []grpc.CallOption{grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)},
	}
}

// Info implements Authenticator.
func (c *GRPCClient) Info(ctx context.Context) (*Info, error) {
	resp, err := c.client.Info(ctx, &pb.InfoRequest{}, c.opts...)
	if err != nil {
		return nil, fromStatus(ctx, "Info", err)
	}
	return &Info{
		Provider:       resp.GetProvider(),
		CallbackPath:   resp.GetCallbackPath(),
		Config:         resp.GetConfig(),
		PolicyRevision: resp.GetPolicyRevision(),
		BundleRevision: resp.GetBundleRevision(),
		Stats:          statsFromProto(resp.GetStats()),
	}, nil
}

// Begin implements Authenticator.
func (c *GRPCClient) Begin(ctx context.Context, req *BeginRequest) (*BeginResponse, error) {
	if req == nil {
		return nil, &LoginError{Kind: KindInvalidInput, Message: "Begin without a request"}
	}
	resp, err := c.client.Begin(ctx, &pb.BeginRequest{RedirectUri: req.RedirectURI, ReturnTo: req.ReturnTo}, c.opts...)
	if err != nil {
		return nil, fromStatus(ctx, "Begin", err)
	}
	return &BeginResponse{AuthURL: resp.GetAuthUrl(), SealedState: resp.GetSealedState()}, nil
}

// SetDirectory implements Authenticator.
func (c *GRPCClient) SetDirectory(ctx context.Context, dir *sso.Directory) error {
	if dir == nil {
		return &LoginError{Kind: KindInvalidInput, Message: "SetDirectory without a directory"}
	}
	_, err := c.client.SetDirectory(ctx, &pb.SetDirectoryRequest{Directory: directoryToProto(dir)}, c.opts...)
	return fromStatus(ctx, "SetDirectory", err)
}

// Decide implements Authenticator.
func (c *GRPCClient) Decide(ctx context.Context, in *sso.Input) (*sso.Decision, error) {
	if in == nil {
		return nil, &LoginError{Kind: KindInvalidInput, Message: "Decide without an input"}
	}
	req, err := inputToProto(in)
	if err != nil {
		return nil, &LoginError{Kind: KindInvalidInput, Message: err.Error()}
	}
	resp, err := c.client.Decide(ctx, req, c.opts...)
	if err != nil {
		return nil, fromStatus(ctx, "Decide", err)
	}
	if resp.GetDecision() == nil {
		return nil, errors.New("plugin: Decide: the plugin returned no decision")
	}
	return decisionFromProto(resp.GetDecision()), nil
}
