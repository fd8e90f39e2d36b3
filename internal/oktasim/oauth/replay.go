package oauth

import (
	"container/heap"
	"sync"
	"time"
)

// replayCache remembers one-time identifiers (assertion and proof jti values) until they
// expire. Entries leave by time, so the cache stays bounded by the request rate over the
// longest lifetime; max caps it outright so a flood cannot exhaust memory.
type replayCache struct {
	mu    sync.Mutex
	seen  map[string]time.Time
	byExp expiryHeap
	max   int
}

func newReplayCache(max int) *replayCache {
	return &replayCache{seen: make(map[string]time.Time), max: max}
}

// seenBefore reports whether id is remembered and not yet expired at now.
func (c *replayCache) seenBefore(id string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.seen[id]
	return ok && now.Before(exp)
}

// cacheFullError is returned by claim when the cache is at capacity with live entries.
type cacheFullError struct{}

func (cacheFullError) Error() string { return "replay cache full" }

// claim records id until exp. It returns false when id was already recorded, and an error
// when the cache holds max live entries (the caller answers "temporarily unavailable"
// rather than forget an identifier and allow a replay).
func (c *replayCache) claim(id string, exp, now time.Time) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	if old, ok := c.seen[id]; ok && now.Before(old) {
		return false, nil
	}
	if len(c.seen) >= c.max {
		return false, cacheFullError{}
	}
	c.seen[id] = exp
	heap.Push(&c.byExp, expiryItem{id: id, exp: exp})
	return true, nil
}

// expire drops entries whose time has passed.
func (c *replayCache) expire(now time.Time) {
	for c.byExp.Len() > 0 && !now.Before(c.byExp[0].exp) {
		it := heap.Pop(&c.byExp).(expiryItem)
		if exp, ok := c.seen[it.id]; ok && !now.Before(exp) {
			delete(c.seen, it.id)
		}
	}
}

// size reports the number of remembered identifiers (expired ones included until the
// next claim sweeps them).
func (c *replayCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

type expiryItem struct {
	id  string
	exp time.Time
}

// expiryHeap is a min-heap of entries ordered by expiry.
type expiryHeap []expiryItem

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].exp.Before(h[j].exp) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryItem)) }
func (h *expiryHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
