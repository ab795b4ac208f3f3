package ping

import (
	"sync"
	"time"
)

// defaultReplayCapacity bounds the used login states remembered at once.
const defaultReplayCapacity = 1 << 17

// replayCache remembers the ids of used login states until they expire.
// When it is full of unexpired ids it refuses new ones (fail closed) rather
// than forget one. It is per process: replicas do not share it.
type replayCache struct {
	mu      sync.Mutex
	cap     int
	now     func() time.Time
	used    map[string]time.Time
	inserts int
}

func newReplayCache(capacity int, now func() time.Time) *replayCache {
	return &replayCache{cap: capacity, now: now, used: make(map[string]time.Time)}
}

// use marks id as used until expiry. It returns errStateReplayed when id was
// used before, errReplayCacheFull when no room is left.
func (c *replayCache) use(id string, expiry time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if exp, ok := c.used[id]; ok && now.Before(exp) {
		return errStateReplayed
	}
	c.inserts++
	if len(c.used) >= c.cap || c.inserts%1024 == 0 {
		c.sweep(now)
	}
	if len(c.used) >= c.cap {
		return errReplayCacheFull
	}
	c.used[id] = expiry
	return nil
}

func (c *replayCache) sweep(now time.Time) {
	for id, exp := range c.used {
		if !now.Before(exp) {
			delete(c.used, id)
		}
	}
}

func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.used)
}
