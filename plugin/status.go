package plugin

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/pingauthz/pingauthz/plugin/proto"
)

// How errors cross the wire. The plugin side turns every error into a gRPC
// status; a *LoginError (and any other error, as KindInternal) also carries a
// pb.LoginError in the status details, from which the host side rebuilds an
// equivalent *LoginError. The status code follows the kind:
//
//	KindInternal       codes.Internal
//	KindInvalidState   codes.FailedPrecondition
//	KindProvider       codes.PermissionDenied
//	KindVerification   codes.Unauthenticated
//	KindUnavailable    codes.Unavailable
//	KindInvalidInput   codes.InvalidArgument
//
// The code is for tools that only read codes; the host reads the details.
// Context errors are sent as codes.DeadlineExceeded and codes.Canceled and
// come back wrapping context.DeadlineExceeded and context.Canceled. A status
// without our details (a transport failure, a plugin that died) comes back
// as a wrapped gRPC status error, not as a *LoginError, so status.Code still
// reads it.

// Code returns the gRPC status code a LoginError of kind k travels with.
func (k ErrorKind) Code() codes.Code {
	switch k {
	case KindInvalidState:
		return codes.FailedPrecondition
	case KindProvider:
		return codes.PermissionDenied
	case KindVerification:
		return codes.Unauthenticated
	case KindUnavailable:
		return codes.Unavailable
	case KindInvalidInput:
		return codes.InvalidArgument
	default:
		return codes.Internal
	}
}

// toStatus turns an error of the implementation into a gRPC status error.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	le := &LoginError{Kind: KindInternal, Message: err.Error()}
	errors.As(err, &le)
	st := status.New(le.Kind.Code(), le.Message)
	withDetails, derr := st.WithDetails(&pb.LoginError{Kind: pb.ErrorKind(le.Kind), Message: le.Message})
	if derr != nil {
		// Only a broken detail message fails here; the code still says enough.
		return st.Err()
	}
	return withDetails.Err()
}

// fromStatus turns the error of a call to method back into the error the
// plugin returned, as far as it can be rebuilt.
func fromStatus(ctx context.Context, method string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("plugin: %s: %w", method, err)
	}
	for _, d := range st.Details() {
		if le, ok := d.(*pb.LoginError); ok {
			return &LoginError{Kind: kindFromProto(le.GetKind()), Message: le.GetMessage()}
		}
	}
	switch st.Code() {
	case codes.DeadlineExceeded:
		return fmt.Errorf("plugin: %s: %s: %w", method, st.Message(), context.DeadlineExceeded)
	case codes.Canceled:
		return fmt.Errorf("plugin: %s: %s: %w", method, st.Message(), context.Canceled)
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("plugin: %s: %w", method, cerr)
	}
	return fmt.Errorf("plugin: %s: %w", method, err)
}

// kindFromProto maps a wire kind to an ErrorKind; unknown kinds are internal.
func kindFromProto(k pb.ErrorKind) ErrorKind {
	if k < pb.ErrorKind_ERROR_KIND_INTERNAL || k > pb.ErrorKind_ERROR_KIND_INVALID_INPUT {
		return KindInternal
	}
	return ErrorKind(k)
}
