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

func TestSessions(t *testing.T) { eachEngine(t, testSessions) }

func testSessions(t *testing.T, e *testEngine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, WithNow(clk.Now))
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

	// Prune deletes the expired ones; creating a session does not.
	fresh, err := s.CreateSession(ctx, alice, time.Minute)
	must(t, err)
	if n := count(t, s, "sessions"); n != 3 {
		t.Fatalf("%d sessions before Prune, want 3", n)
	}
	pruned, err := s.Prune(ctx)
	must(t, err)
	if n := count(t, s, "sessions"); n != 1 || pruned.Sessions != 2 {
		t.Errorf("%d sessions after Prune, which reports %+v; want 1 left, 2 pruned", n, pruned)
	}

	must(t, s.DeleteSession(ctx, fresh))
	if _, err := s.SessionAccount(ctx, fresh); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("deleted session: %v, want sso.ErrNotFound", err)
	}
	must(t, s.DeleteSession(ctx, fresh))   // again
	must(t, s.DeleteSession(ctx, "never")) // unknown
}

func TestSessionErrors(t *testing.T) { eachEngine(t, testSessionErrors) }

func testSessionErrors(t *testing.T, e *testEngine) {
	ctx := context.Background()
	s := e.open(t)
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

func TestSessionEndsWithUser(t *testing.T) { eachEngine(t, testSessionEndsWithUser) }

func testSessionEndsWithUser(t *testing.T, e *testEngine) {
	ctx := context.Background()
	s := e.open(t)
	fixture(t, s)
	alice := existingAlice(t, s)
	tok, err := s.CreateSession(ctx, alice, time.Hour)
	must(t, err)
	// Sessions reference their user; deleting the user ends them.
	_, err = s.w.ExecContext(ctx, s.eng.rebind("DELETE FROM users WHERE id = ?"), alice)
	must(t, err)
	if _, err := s.SessionAccount(ctx, tok); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("session of a deleted user: %v, want sso.ErrNotFound", err)
	}
}

// TestSessionIdle checks the idle timeout: a session unused for the idle time
// is not found, a use refreshes it, and only a use a tenth of the idle time
// after the recorded one writes to the database.
func TestSessionIdle(t *testing.T) { eachEngine(t, testSessionIdle) }

func testSessionIdle(t *testing.T, e *testEngine) {
	ctx := context.Background()
	clk := newClock()
	const idle = 30 * time.Minute
	s := e.open(t, WithNow(clk.Now), WithSessionIdle(idle))
	fixture(t, s)
	alice := existingAlice(t, s)
	tok, err := s.CreateSession(ctx, alice, 2*time.Hour)
	must(t, err)

	for _, st := range []struct {
		name    string
		advance time.Duration
		live    bool
		written bool // the use is recorded
	}{
		{"fresh", 0, true, false},
		{"used within a tenth of the idle time", 2 * time.Minute, true, false},
		{"used after a tenth", 2 * time.Minute, true, true},
		{"just before the idle time", idle - time.Millisecond, true, true},
		{"used again at once", time.Second, true, false},
		{"unused for the idle time", idle - time.Second, false, false},
		{"later still", time.Hour, false, false},
	} {
		t.Run(st.name, func(t *testing.T) {
			clk.Advance(st.advance)
			before := lastUsed(t, s, tok)
			a, err := s.SessionAccount(ctx, tok)
			if st.live != (err == nil) {
				t.Fatalf("SessionAccount = %+v, %v; want live=%v", a, err, st.live)
			}
			if !st.live && !errors.Is(err, sso.ErrNotFound) {
				t.Errorf("error %v is not sso.ErrNotFound", err)
			}
			if got := lastUsed(t, s, tok); (got != before) != st.written {
				t.Errorf("last use recorded %v, then %v; want a write: %v", before, got, st.written)
			} else if st.written && !got.Equal(clk.Now()) {
				t.Errorf("last use recorded as %v, want %v", got, clk.Now())
			}
		})
	}

	// The lifetime still ends a session in use.
	short, err := s.CreateSession(ctx, alice, 10*time.Minute)
	must(t, err)
	for i := range 3 {
		clk.Advance(3 * time.Minute)
		if _, err := s.SessionAccount(ctx, short); err != nil {
			t.Fatalf("use %d within the lifetime: %v", i, err)
		}
	}
	clk.Advance(3 * time.Minute)
	if _, err := s.SessionAccount(ctx, short); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("a session in use past its lifetime: %v, want sso.ErrNotFound", err)
	}
}

// TestSessionNoIdle checks that without an idle timeout a use never writes.
func TestSessionNoIdle(t *testing.T) { eachEngine(t, testSessionNoIdle) }

func testSessionNoIdle(t *testing.T, e *testEngine) {
	ctx := context.Background()
	clk := newClock()
	s := e.open(t, WithNow(clk.Now))
	fixture(t, s)
	tok, err := s.CreateSession(ctx, existingAlice(t, s), 24*time.Hour)
	must(t, err)
	before := lastUsed(t, s, tok)
	for range 3 {
		clk.Advance(5 * time.Hour)
		if _, err := s.SessionAccount(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if got := lastUsed(t, s, tok); got != before {
		t.Errorf("session uses without an idle timeout recorded a use: %v, then %v", before, got)
	}
}

// lastUsed returns the recorded last use of a session.
func lastUsed(t testing.TB, s *Store, token string) time.Time {
	t.Helper()
	return time.UnixMilli(queryInt(t, s, "SELECT last_used FROM sessions WHERE token_hash = ?", tokenHash(token))).UTC()
}
