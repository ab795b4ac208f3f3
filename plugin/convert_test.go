package plugin

import (
	"errors"
	"strings"
	"testing"

	"github.com/pingauthz/pingauthz/sso"

	pb "github.com/pingauthz/pingauthz/plugin/proto"
)

func TestIdentityFromProtoRejectsBadClaims(t *testing.T) {
	tests := []struct {
		name, claims, want string
	}{
		{"not JSON", `{"a":`, "unexpected EOF"},
		{"an array", `["a"]`, "cannot unmarshal array"},
		{"null", `null`, "not a JSON object"},
		{"trailing data", `{"a":1} {"b":2}`, "trailing data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := identityFromProto(&pb.Identity{Subject: "s1", Claims: []byte(tt.claims)})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"s1"`) {
				t.Errorf("error %v, want one naming the subject and containing %q", err, tt.want)
			}
		})
	}
}

func TestDecideRejectsBadClaims(t *testing.T) {
	s := &GRPCServer{Impl: &fake{}}
	_, err := s.Decide(t.Context(), &pb.DecideRequest{Identity: &pb.Identity{Claims: []byte("[]")}})
	got := fromStatus(t.Context(), "Decide", err)
	var le *LoginError
	if !errors.As(got, &le) || le.Kind != KindInvalidInput {
		t.Errorf("got %v, want an invalid_input LoginError", got)
	}
}

func TestIdentityToProtoRejectsUnencodableClaims(t *testing.T) {
	_, err := identityToProto(&sso.Identity{Subject: "s1", Claims: map[string]any{"f": func() {}}})
	if err == nil || !strings.Contains(err.Error(), "plugin: encoding the claims") {
		t.Errorf("error %v, want an encoding error", err)
	}
}

func TestKindFromProto(t *testing.T) {
	for k, want := range map[pb.ErrorKind]ErrorKind{
		pb.ErrorKind_ERROR_KIND_INTERNAL:      KindInternal,
		pb.ErrorKind_ERROR_KIND_INVALID_STATE: KindInvalidState,
		pb.ErrorKind_ERROR_KIND_PROVIDER:      KindProvider,
		pb.ErrorKind_ERROR_KIND_VERIFICATION:  KindVerification,
		pb.ErrorKind_ERROR_KIND_UNAVAILABLE:   KindUnavailable,
		pb.ErrorKind_ERROR_KIND_INVALID_INPUT: KindInvalidInput,
		pb.ErrorKind(99):                      KindInternal,
		pb.ErrorKind(-1):                      KindInternal,
	} {
		if got := kindFromProto(k); got != want {
			t.Errorf("kindFromProto(%v) = %v, want %v", k, got, want)
		}
		if want != KindInternal && want.String() == "internal" {
			t.Errorf("kind %d has no name", want)
		}
	}
}
