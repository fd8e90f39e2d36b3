package process

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/store"
)

// baselineKey is one first_seen record of an integration.
type baselineKey struct{ rule, key, value string }

// baseline is an integration's first_seen state: in memory for the engine, with the changes since
// the last commit kept so that they are stored in the same transaction as the batch that made
// them. It is used by one goroutine (the processor's).
type baseline struct {
	prefix string
	m      map[baselineKey]detect.Seen
	dirty  map[baselineKey]bool
	max    int
}

var _ detect.Baseline = (*baseline)(nil)

// baselinePrefix starts the state keys of an integration's baseline.
func baselinePrefix(integration int64) string {
	return "baseline/" + strconv.FormatInt(integration, 10) + "/"
}

// newBaseline returns an empty baseline of at most max entries.
func newBaseline(integration int64, max int) *baseline {
	return &baseline{prefix: baselinePrefix(integration), m: map[baselineKey]detect.Seen{}, dirty: map[baselineKey]bool{}, max: max}
}

// Get implements detect.Baseline.
func (b *baseline) Get(rule, key, value string) (detect.Seen, bool) {
	s, ok := b.m[baselineKey{rule, key, value}]
	return s, ok
}

// Put implements detect.Baseline. When full, the least recently seen hundredth of the values is
// forgotten at once, so a full baseline costs little per new value.
func (b *baseline) Put(rule, key, value string, s detect.Seen) {
	k := baselineKey{rule, key, value}
	if old, ok := b.m[k]; ok && old.First.Equal(s.First) && old.Last.Equal(s.Last) {
		return
	}
	if _, ok := b.m[k]; !ok && len(b.m) >= b.max {
		b.evictOldest(b.max/100 + 1)
	}
	b.m[k] = s
	b.dirty[k] = true
}

// evictOldest forgets the n values seen longest ago (rules' start markers stay).
func (b *baseline) evictOldest(n int) {
	type aged struct {
		k    baselineKey
		last time.Time
	}
	all := make([]aged, 0, len(b.m))
	for k, v := range b.m {
		if k.key != "" {
			all = append(all, aged{k, v.Last})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].last.Before(all[j].last) })
	for _, a := range all[:min(n, len(all))] {
		delete(b.m, a.k)
		b.dirty[a.k] = true
	}
}

// Prune implements detect.Baseline.
func (b *baseline) Prune(rule string, before time.Time) {
	for k, v := range b.m {
		if k.rule == rule && k.key != "" && v.Last.Before(before) {
			delete(b.m, k)
			b.dirty[k] = true
		}
	}
}

// changes returns the state entries for what changed since the last call (a nil value for a
// forgotten entry) and starts a new change set.
func (b *baseline) changes(out []store.StateEntry) []store.StateEntry {
	for k := range b.dirty {
		e := store.StateEntry{Key: b.stateKey(k)}
		if s, ok := b.m[k]; ok {
			e.Value, _ = json.Marshal(s) // two time.Time values always marshal
		}
		out = append(out, e)
	}
	clear(b.dirty)
	return out
}

// stateKey is the consumer-state key of one entry: the prefix, then the JSON array [rule, key,
// value], which needs no escaping rules of its own.
func (b *baseline) stateKey(k baselineKey) string {
	j, _ := json.Marshal([3]string{k.rule, k.key, k.value}) // strings always marshal
	return b.prefix + string(j)
}

// restore loads one stored entry whose key starts with the baseline's prefix.
func (b *baseline) restore(e store.StateEntry) error {
	var parts [3]string
	if err := json.Unmarshal([]byte(strings.TrimPrefix(e.Key, b.prefix)), &parts); err != nil {
		return fmt.Errorf("baseline key %q: %w", e.Key, err)
	}
	var s detect.Seen
	if err := json.Unmarshal(e.Value, &s); err != nil {
		return fmt.Errorf("baseline entry %q: %w", e.Key, err)
	}
	b.m[baselineKey{parts[0], parts[1], parts[2]}] = s
	return nil
}
