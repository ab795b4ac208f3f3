package plugin

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc"

	pb "github.com/pingauthz/pingauthz/plugin/proto"
	"github.com/pingauthz/pingauthz/sso"
)

// Complete is one bidirectional stream: the host's callback, the plugin's
// identity, the host's lookup, the plugin's decision. The user lookup thus
// happens inside the call, and the identity's claims never leave the
// plugin. These are its two adapters.

// Complete implements pb.AuthenticatorServer.
func (s *GRPCServer) Complete(stream grpc.BidiStreamingServer[pb.CompleteRequest, pb.CompleteResponse]) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	cb := first.GetCallback()
	if cb == nil {
		return toStatus(&LoginError{Kind: KindInvalidInput, Message: "Complete must start with the callback"})
	}
	looked := false
	lookup := func(ctx context.Context, id *sso.Identity) (*sso.User, error) {
		if looked {
			return nil, errors.New("plugin: Complete looked a user up twice")
		}
		looked = true
		if err := stream.Send(&pb.CompleteResponse{Step: &pb.CompleteResponse_Identity{Identity: identityToProtoWithoutClaims(id)}}); err != nil {
			return nil, err
		}
		msg, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		l := msg.GetLookup()
		if l == nil {
			return nil, &LoginError{Kind: KindInvalidInput, Message: "Complete expected the user lookup"}
		}
		return userFromProto(l.GetUser()), nil
	}
	resp, err := s.Impl.Complete(stream.Context(), &CompleteRequest{
		RedirectURI: cb.GetRedirectUri(),
		SealedState: cb.GetSealedState(),
		Query:       cb.GetQuery(),
	}, lookup)
	switch {
	case err != nil:
		return toStatus(err)
	case resp == nil || resp.Decision == nil:
		return toStatus(errors.New("plugin: Complete returned no decision"))
	case !looked:
		return toStatus(errors.New("plugin: Complete decided without looking the user up"))
	}
	return stream.Send(&pb.CompleteResponse{Step: &pb.CompleteResponse_Completed{Completed: &pb.Completed{
		Decision:           decisionToProto(resp.Decision),
		ReturnTo:           resp.ReturnTo,
		StateId:            resp.State.ID,
		StateExpiresUnixMs: unixMilli(resp.State.Expires),
	}}})
}

// Complete implements Authenticator. It is not retried: the login state
// and the code are single-use. A lookup error ends the stream and is
// returned as it is.
func (c *GRPCClient) Complete(ctx context.Context, req *CompleteRequest, lookup UserLookup) (*CompleteResponse, error) {
	if req == nil || lookup == nil {
		return nil, &LoginError{Kind: KindInvalidInput, Message: "Complete without a request or a user lookup"}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream on every early return
	stream, err := c.client.Complete(ctx, c.opts...)
	if err != nil {
		return nil, fromStatus(ctx, "Complete", err)
	}
	err = stream.Send(&pb.CompleteRequest{Step: &pb.CompleteRequest_Callback{Callback: &pb.Callback{
		RedirectUri: req.RedirectURI,
		SealedState: req.SealedState,
		Query:       req.Query,
	}}})
	if err != nil {
		return nil, c.streamErr(ctx, stream, err)
	}
	msg, err := stream.Recv()
	if err != nil {
		return nil, fromStatus(ctx, "Complete", err)
	}
	pid := msg.GetIdentity()
	if pid == nil {
		return nil, errors.New("plugin: Complete: the plugin answered without the identity")
	}
	id, err := identityFromProto(pid)
	if err != nil {
		return nil, err
	}
	user, err := lookup(ctx, &id)
	if err != nil {
		return nil, err
	}
	if err := stream.Send(&pb.CompleteRequest{Step: &pb.CompleteRequest_Lookup{Lookup: &pb.Lookup{User: userToProto(user)}}}); err != nil {
		return nil, c.streamErr(ctx, stream, err)
	}
	_ = stream.CloseSend()
	if msg, err = stream.Recv(); err != nil {
		return nil, fromStatus(ctx, "Complete", err)
	}
	done := msg.GetCompleted()
	if done == nil || done.GetDecision() == nil {
		return nil, errors.New("plugin: Complete: the plugin answered without the decision")
	}
	return &CompleteResponse{
		Identity: id,
		Decision: decisionFromProto(done.GetDecision()),
		ReturnTo: done.GetReturnTo(),
		State:    sso.LoginState{ID: done.GetStateId(), Expires: fromUnixMilli(done.GetStateExpiresUnixMs())},
	}, nil
}

// streamErr turns a failed Send into the call's error: after io.EOF, the
// stream's status says why it ended.
func (c *GRPCClient) streamErr(ctx context.Context, stream grpc.BidiStreamingClient[pb.CompleteRequest, pb.CompleteResponse], err error) error {
	if errors.Is(err, io.EOF) {
		if _, rerr := stream.Recv(); rerr != nil {
			err = rerr
		}
	}
	return fromStatus(ctx, "Complete", err)
}

// unixMilli and fromUnixMilli carry a time as Unix milliseconds, with 0 for
// the zero time.
func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromUnixMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
