package store

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pingauthz/pingauthz/sso"
)

func TestSessions(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := openTest(t, WithNow(clk.Now))
	fixture(t, s)
	alice := existingAlice(t, s)

	tok, err := s.CreateSession(ctx, alice, time.Hour)
	must(t, err)
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != 32 {
		t.Fatalf("token %q is not 32 bytes of base64url: %v", tok, err)
	}
	if strings.Contains(dump(t, s), tok) {
		t.Error("the token is stored in clear")
	}
	other, err := s.CreateSession(ctx, alice, time.Hour)
	must(t, err)
	if other == tok {
		t.Fatal("two sessions got the same token")
	}

	steps := []struct {
		name    string
		advance time.Duration
		token   string
		live    bool
	}{
		{"fresh", 0, tok, true},
		{"before expiry", 59*time.Minute + 59*time.Second, tok, true},
		{"at expiry", time.Second, tok, false},
		{"after expiry", time.Hour, tok, false},
		{"unknown", 0, "bm9wZQ", false},
		{"empty", 0, "", false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.Advance(st.advance)
			a, err := s.SessionAccount(ctx, st.token)
			if !st.live {
				if !errors.Is(err, sso.ErrNotFound) || a != nil {
					t.Fatalf("SessionAccount = %+v, %v; want sso.ErrNotFound", a, err)
				}
				return
			}
			must(t, err)
			if a.ID != alice || a.Role != "admin" || len(a.Groups) != 2 {
				t.Errorf("SessionAccount = %+v", a)
			}
		})
	}

	// Creating a session deletes the expired ones.
	if n := count(t, s, "sessions"); n != 2 {
		t.Fatalf("%d sessions before the purge, want 2", n)
	}
	fresh, err := s.CreateSession(ctx, alice, time.Minute)
	must(t, err)
	if n := count(t, s, "sessions"); n != 1 {
		t.Errorf("%d sessions after the purge, want 1", n)
	}

	must(t, s.DeleteSession(ctx, fresh))
	if _, err := s.SessionAccount(ctx, fresh); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("deleted session: %v, want sso.ErrNotFound", err)
	}
	must(t, s.DeleteSession(ctx, fresh))   // again
	must(t, s.DeleteSession(ctx, "never")) // unknown
}

func TestSessionErrors(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	fixture(t, s)
	alice := existingAlice(t, s)
	tests := []struct {
		name, user string
		ttl        time.Duration
		want       string
		notFound   bool
	}{
		{"unknown user", "nobody", time.Hour, `store: user "nobody" not found`, true},
		{"zero lifetime", alice, 0, "not positive", false},
		{"negative lifetime", alice, -time.Second, "not positive", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := s.CreateSession(ctx, tt.user, tt.ttl)
			if err == nil || !strings.Contains(err.Error(), tt.want) || tok != "" {
				t.Fatalf("CreateSession = %q, %v; want an error containing %q", tok, err, tt.want)
			}
			if errors.Is(err, sso.ErrNotFound) != tt.notFound {
				t.Errorf("errors.Is(err, sso.ErrNotFound) = %v, want %v", !tt.notFound, tt.notFound)
			}
		})
	}
	if n := count(t, s, "sessions"); n != 0 {
		t.Errorf("%d sessions after failures", n)
	}
}

func TestSessionEndsWithUser(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	fixture(t, s)
	alice := existingAlice(t, s)
	tok, err := s.CreateSession(ctx, alice, time.Hour)
	must(t, err)
	// Sessions reference their user; deleting the user ends them.
	_, err = s.w.ExecContext(ctx, "DELETE FROM users WHERE id = ?", alice)
	must(t, err)
	if _, err := s.SessionAccount(ctx, tok); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("session of a deleted user: %v, want sso.ErrNotFound", err)
	}
}
