package store

import (
	"context"
	"fmt"
	"time"
)

// Pruned counts what one Prune deleted.
type Pruned struct {
	// States are consumed login states past their expiry.
	States int64
	// Sessions are sessions past their lifetime or, with an idle timeout,
	// unused for it.
	Sessions int64
}

// Prune deletes consumed login states that have expired, whose replay the
// plugin refuses by their expiry anyway, and sessions that SessionAccount
// no longer finds. Logins never prune: a server calls Prune on a timer (see
// PruneEvery). Several processes may prune one database at once.
func (s *Store) Prune(ctx context.Context) (Pruned, error) {
	var p Pruned
	err := s.write(ctx, func(t *tx) error {
		now := millis(s.now())
		res, err := t.exec(ctx, "DELETE FROM login_states WHERE expires_at <= ?", now)
		if err != nil {
			return fmt.Errorf("store: prune login states: %w", err)
		}
		if p.States, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("store: prune login states: %w", err)
		}
		idleSince := int64(-1) // no session was last used before
		if s.idle > 0 {
			idleSince = now - s.idle.Milliseconds()
		}
		res, err = t.exec(ctx, "DELETE FROM sessions WHERE expires_at <= ? OR last_used <= ?", now, idleSince)
		if err != nil {
			return fmt.Errorf("store: prune sessions: %w", err)
		}
		if p.Sessions, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("store: prune sessions: %w", err)
		}
		return nil
	})
	return p, err
}

// DefaultPruneEvery is how often a server prunes expired login states and
// sessions.
const DefaultPruneEvery = 5 * time.Minute

// PruneEvery calls Prune at every tick of a ticker of period every (or of
// tick, when not nil, for tests) until ctx ends, passing each result or
// error to report, which may be nil.
func (s *Store) PruneEvery(ctx context.Context, every time.Duration, tick <-chan time.Time, report func(Pruned, error)) {
	if tick == nil {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		p, err := s.Prune(ctx)
		if report != nil && ctx.Err() == nil {
			report(p, err)
		}
	}
}
