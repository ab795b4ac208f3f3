package server

import (
	"context"

	"github.com/pingauthz/pingauthz/internal/store"
)

// The directory-change watch and the pruning timer: the server's
// background work on the store.

// fallbackFactor: while PostgreSQL cannot notify, the version is polled
// every fallbackFactor x DirectoryPoll.
const fallbackFactor = 20

// startBackground starts the directory watch (unless DirectoryPoll is
// negative) and the pruning of expired login states and sessions; both
// stop when Close closes s.stop.
func (s *Server) startBackground() {
	ctx, cancel := context.WithCancel(context.Background())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-s.stop
		cancel()
	}()
	if s.cfg.DirectoryPoll > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.Store.Watch(ctx, s.pushed.Load(), store.WatchOptions{
				Interval: s.cfg.DirectoryPoll,
				Fallback: fallbackFactor * s.cfg.DirectoryPoll,
				OnError:  func(err error) { s.log.Warn("watching the directory for changes", "error", err) },
			}, func(version int64) {
				if version == s.pushed.Load() {
					return // this process made the change and pushed it
				}
				s.push(ctx, "changed by another process")
				if f := s.watchPushed.Load(); f != nil {
					(*f)(version)
				}
			})
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.Store.PruneEvery(ctx, store.DefaultPruneEvery, nil, func(p store.Pruned, err error) {
			if err != nil {
				s.log.Warn("pruning expired login states and sessions failed", "error", err)
				return
			}
			s.log.Debug("pruned expired login states and sessions", "states", p.States, "sessions", p.Sessions)
		})
	}()
}
