package detect

import (
	"sort"
	"sync"
	"time"
)

// Seen is when a first_seen value was first and last observed.
type Seen struct {
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// Baseline stores first_seen state so that it survives restarts. The engine calls it from
// its single goroutine; implementations persist as they see fit (write-through, or a
// snapshot saved with the processor's offset). The value "" of a key records when the key
// itself was first seen, and the key "" when the rule started learning.
type Baseline interface {
	// Get returns what is recorded for (rule, key, value).
	Get(rule, key, value string) (Seen, bool)
	// Put records (rule, key, value).
	Put(rule, key, value string, s Seen)
	// Prune forgets the rule's values last seen before the given time.
	Prune(rule string, before time.Time)
}

type baselineKey struct{ rule, key, value string }

// MemoryBaseline is an in-memory Baseline with an optional cap on entries; Snapshot and
// Restore let a caller persist it.
type MemoryBaseline struct {
	mu  sync.Mutex
	m   map[baselineKey]Seen
	max int
}

// NewMemoryBaseline returns an empty baseline holding at most max entries (0: 1,000,000).
func NewMemoryBaseline(max int) *MemoryBaseline {
	if max <= 0 {
		max = 1_000_000
	}
	return &MemoryBaseline{m: map[baselineKey]Seen{}, max: max}
}

// Get implements Baseline.
func (b *MemoryBaseline) Get(rule, key, value string) (Seen, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.m[baselineKey{rule, key, value}]
	return s, ok
}

// Put implements Baseline. When full, the least recently seen hundredth of the entries is
// dropped at once, so that a full baseline costs little per new value.
func (b *MemoryBaseline) Put(rule, key, value string, s Seen) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := baselineKey{rule, key, value}
	if _, ok := b.m[k]; !ok && len(b.m) >= b.max {
		b.evictOldest(b.max/100 + 1)
	}
	b.m[k] = s
}

func (b *MemoryBaseline) evictOldest(n int) {
	type aged struct {
		k    baselineKey
		last time.Time
	}
	all := make([]aged, 0, len(b.m))
	for k, v := range b.m {
		if k.key != "" { // keep the rules' start markers
			all = append(all, aged{k, v.Last})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].last.Before(all[j].last) })
	for _, a := range all[:min(n, len(all))] {
		delete(b.m, a.k)
	}
}

// Prune implements Baseline.
func (b *MemoryBaseline) Prune(rule string, before time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, v := range b.m {
		if k.rule == rule && k.key != "" && v.Last.Before(before) {
			delete(b.m, k)
		}
	}
}

// BaselineEntry is one stored baseline record, for snapshots.
type BaselineEntry struct {
	Rule  string `json:"rule"`
	Key   string `json:"key"`
	Value string `json:"value"`
	Seen
}

// Snapshot returns every entry, for persisting.
func (b *MemoryBaseline) Snapshot() []BaselineEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]BaselineEntry, 0, len(b.m))
	for k, v := range b.m {
		out = append(out, BaselineEntry{Rule: k.rule, Key: k.key, Value: k.value, Seen: v})
	}
	return out
}

// Restore loads entries saved by Snapshot.
func (b *MemoryBaseline) Restore(entries []BaselineEntry) {
	for _, e := range entries {
		b.Put(e.Rule, e.Key, e.Value, e.Seen)
	}
}

// Len is the number of entries.
func (b *MemoryBaseline) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}
