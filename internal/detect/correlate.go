package detect

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/detect/sigma"
)

// match is a rule firing on an event (detection rules) or a correlation hit (chained).
type match struct {
	rule  *compiled
	t     time.Time // event time, or the hit's time
	first time.Time // earliest evidence
	ev    *sigma.Event
	group []KV     // correlation hits: their group-by values
	uuid  string   // detection matches: the event's uuid
	uuids []string // correlation hits: the evidence uuids
	// detail explains a correlation hit (counts, speed, deadline) for the alert.
	detail string
	// anchor makes the alert id unique per window or evidence set.
	anchor string
}

// at is when the match happened: an absence is met at its deadline, not at the event that
// opened it, so a correlation chained on it sees the hit when it happened however far the
// watermark has jumped since.
func (m *match) at() time.Time {
	if c := m.rule.rule.Correlation; c != nil && c.Type == sigma.Absence {
		return m.t.Add(c.Timespan)
	}
	return m.t
}

// value returns the first non-empty text value of a field from a match.
func (m *match) value(f fieldRef) (string, bool) {
	if m.ev == nil {
		for _, kv := range m.group {
			if strings.EqualFold(kv.Key, f.name) {
				return kv.Value, true
			}
		}
		return "", false
	}
	if f.slot < 0 {
		return "", false
	}
	for _, l := range m.ev.Values(f.slot) {
		if l.HasS && l.S != "" {
			return l.S, true
		}
	}
	return "", false
}

// evidence returns the uuids of the events behind the match.
func (m *match) evidence() []string {
	if m.uuids == nil && m.uuid != "" {
		return []string{m.uuid}
	}
	return m.uuids
}

func (m *match) firstUUID() string {
	if m.uuids == nil {
		return m.uuid
	}
	return firstOr(m.uuids)
}

// KV is one group-by field and its value.
type KV struct {
	Key   string `json:"field"`
	Value string `json:"value"`
}

// entry is one remembered event of a group.
type entry struct {
	t     time.Time
	uuid  string
	value string // value_count / first_seen value; rule position for temporal kinds
	pos   int
	lat   float64
	lon   float64
}

// group is the state of one correlation for one group key.
type group struct {
	key     string
	kvs     []KV
	entries []entry // sorted by time
	pending []entry // absence: events still waiting for their follow-up
	// prev and next link the rule's groups from least to most recently updated.
	prev, next *group
	// kv and first are inline storage for kvs and entries, so a new group of up to two
	// group-by fields is usually one allocation besides its key.
	kv    [2]KV
	first [1]entry
}

// ruleState is the state of one correlation rule.
type ruleState struct {
	c       *compiled
	groups  map[string]*group
	lru     lru // most recently updated at the back
	entries int
	// nextPrune spaces out first_seen baseline pruning, which walks the whole baseline.
	nextPrune time.Time
}

func newRuleState(c *compiled) *ruleState {
	return &ruleState{c: c, groups: map[string]*group{}}
}

// lru is an intrusive list of groups through their prev and next links.
type lru struct {
	front, back *group
	n           int
}

// Len is the number of groups in the list.
func (l *lru) Len() int { return l.n }

func (l *lru) pushBack(g *group) {
	g.prev, g.next = l.back, nil
	if l.back != nil {
		l.back.next = g
	} else {
		l.front = g
	}
	l.back = g
	l.n++
}

func (l *lru) remove(g *group) {
	if g.prev != nil {
		g.prev.next = g.next
	} else {
		l.front = g.next
	}
	if g.next != nil {
		g.next.prev = g.prev
	} else {
		l.back = g.prev
	}
	g.prev, g.next = nil, nil
	l.n--
}

func (l *lru) moveToBack(g *group) {
	if l.back == g {
		return
	}
	l.remove(g)
	l.pushBack(g)
}

// matched handles a rule match: alert if the rule alerts, then feed the correlations that
// consume it.
func (e *Engine) matched(m *match) {
	if m.rule.alerts {
		e.alertFromMatch(m)
	}
	for _, p := range m.rule.parents {
		e.feed(p, m)
	}
}

// feed gives a match to one consuming correlation.
func (e *Engine) feed(p *parentLink, m *match) {
	cor := p.corr.rule.Correlation
	st := e.states[p.corr.n]
	at := m.at()
	if at.Before(e.watermark.Add(-cor.Timespan)) && cor.Type != sigma.FirstSeen {
		e.stats.Late++
		return
	}
	// The group key is built in stack buffers; only a new group copies it.
	var kbuf [256]byte
	var vbuf [8]string
	key, vals := kbuf[:0], vbuf[:0]
	for i, f := range p.group {
		v, ok := m.value(f)
		if !ok {
			return // events without the group-by fields do not correlate
		}
		if i > 0 {
			key = append(key, '\x1e')
		}
		key, vals = append(key, v...), append(vals, v)
	}
	ent := entry{t: at, uuid: strings.Clone(m.firstUUID()), pos: p.pos}
	switch cor.Type {
	case sigma.ValueCount, sigma.FirstSeen:
		for i, f := range p.values {
			v, ok := m.value(f)
			if !ok {
				return
			}
			if i == 0 {
				ent.value = v
			} else {
				ent.value += "\x1f" + v
			}
		}
		// Values read from an event may share the memory of the whole raw event: a window or a
		// baseline that kept them would keep every raw event it ever saw.
		ent.value = strings.Clone(ent.value)
	case sigma.GeoVelocity:
		lat, ok1 := readCoord(m, p.geo[0], 90)
		lon, ok2 := readCoord(m, p.geo[1], 180)
		if !ok1 || !ok2 || (lat == 0 && lon == 0) {
			return
		}
		ent.lat, ent.lon = lat, lon
	case sigma.TemporalOrdered, sigma.Temporal:
		// A rule listed twice counts at each of its positions.
		for i, r := range p.corr.children {
			if r == m.rule {
				at := ent
				at.pos = i
				e.feedEntry(st, key, vals, at, m)
			}
		}
		return
	}
	e.feedEntry(st, key, vals, ent, m)
}

func (e *Engine) feedEntry(st *ruleState, key []byte, vals []string, ent entry, m *match) {
	cor := st.c.rule.Correlation
	if cor.Type == sigma.FirstSeen {
		e.firstSeen(st, string(key), groupKVs(cor, vals), ent, m)
		return
	}
	g := e.group(st, key, vals)
	// Busy groups shed expired events as they are updated; sweeps only visit idle groups.
	trimExpired(st, g, e.watermark.Add(-cor.Timespan))
	switch cor.Type {
	case sigma.EventCount, sigma.ValueCount:
		e.countAdd(st, g, ent)
	case sigma.Temporal, sigma.TemporalOrdered:
		e.temporalAdd(st, g, ent)
	case sigma.Absence:
		e.absenceAdd(st, g, ent)
	case sigma.GeoVelocity:
		e.geoAdd(st, g, ent)
	}
	if len(g.entries) == 0 && len(g.pending) == 0 {
		e.dropGroup(st, g)
	}
}

// groupKVs pairs a correlation's group-by names with their values.
func groupKVs(cor *sigma.Correlation, vals []string) []KV {
	kvs := make([]KV, len(vals))
	for i, v := range vals {
		kvs[i] = KV{Key: cor.GroupBy[i], Value: strings.Clone(v)}
	}
	return kvs
}

func readCoord(m *match, f fieldRef, limit float64) (float64, bool) {
	if m.ev == nil || f.slot < 0 {
		return 0, false
	}
	for _, l := range m.ev.Values(f.slot) {
		if v, ok := numberOf(l.V); ok && v >= -limit && v <= limit {
			return v, true
		}
	}
	return 0, false
}

func firstOr(s []string) string {
	if len(s) > 0 {
		return s[0]
	}
	return ""
}

func groupKey(kvs []KV) string {
	var b strings.Builder
	for i, kv := range kvs {
		if i > 0 {
			b.WriteByte('\x1e')
		}
		b.WriteString(kv.Value)
	}
	return b.String()
}

// group returns the state for key, creating it and enforcing the group caps.
func (e *Engine) group(st *ruleState, key []byte, vals []string) *group {
	if g, ok := st.groups[string(key)]; ok {
		st.lru.moveToBack(g)
		return g
	}
	for st.lru.Len() >= e.cfg.MaxGroupsPerRule || (e.groups >= e.cfg.MaxGroups && st.lru.Len() > 0) {
		e.dropGroup(st, st.lru.front)
		e.stats.Evicted++
	}
	g := &group{key: string(key)}
	cor := st.c.rule.Correlation
	if len(vals) <= len(g.kv) {
		g.kvs = g.kv[:len(vals)]
		for i, v := range vals {
			g.kvs[i] = KV{Key: cor.GroupBy[i], Value: strings.Clone(v)}
		}
	} else {
		g.kvs = groupKVs(cor, vals)
	}
	g.entries = g.first[:0]
	st.lru.pushBack(g)
	st.groups[g.key] = g
	e.groups++
	return g
}

func (e *Engine) dropGroup(st *ruleState, g *group) {
	if cur, ok := st.groups[g.key]; !ok || cur != g {
		return // already dropped: its links are gone
	}
	st.entries -= len(g.entries) + len(g.pending)
	st.lru.remove(g)
	delete(st.groups, g.key)
	e.groups--
}

// insert adds an entry in time order, dropping the oldest beyond the per-group cap.
func (e *Engine) insert(st *ruleState, list []entry, ent entry) []entry {
	i := sort.Search(len(list), func(i int) bool { return list[i].t.After(ent.t) })
	list = append(list, entry{})
	copy(list[i+1:], list[i:])
	list[i] = ent
	st.entries++
	if len(list) > e.cfg.MaxEntriesPerGroup {
		list = list[1:]
		st.entries--
		e.stats.Evicted++
	}
	return list
}

// expire fires what the watermark completed and evicts entries no window can use.
func (st *ruleState) expire(e *Engine) {
	cor := st.c.rule.Correlation
	if cor.Type == sigma.FirstSeen {
		if !e.watermark.Before(st.nextPrune) {
			e.cfg.Baseline.Prune(st.c.rule.Key(), e.watermark.Add(-cor.Timespan))
			st.nextPrune = e.watermark.Add(max(time.Hour, cor.Timespan/100))
		}
		return
	}
	horizon := e.watermark.Add(-cor.Timespan)
	// Deadlines and closing windows need every group; otherwise only the least recently
	// updated groups can have expired entirely, and the walk stops at the first live one.
	full := cor.Type == sigma.Absence || ((cor.Type == sigma.EventCount || cor.Type == sigma.ValueCount) && !cor.Cond.Monotone())
	var empty []*group
	for g := st.lru.front; g != nil; g = g.next {
		if !full && len(g.entries) > 0 && !g.entries[len(g.entries)-1].t.Before(horizon) {
			break
		}
		switch cor.Type {
		case sigma.Absence:
			e.absenceExpire(st, g)
		case sigma.EventCount, sigma.ValueCount:
			if !cor.Cond.Monotone() {
				e.countClose(st, g)
			}
		}
		trimExpired(st, g, horizon)
		if len(g.entries) == 0 && len(g.pending) == 0 {
			empty = append(empty, g)
		}
	}
	for _, g := range empty {
		e.dropGroup(st, g)
	}
}

// trimExpired drops a group's entries older than horizon.
func trimExpired(st *ruleState, g *group, horizon time.Time) {
	n := 0
	for n < len(g.entries) && g.entries[n].t.Before(horizon) {
		n++
	}
	if n > 0 {
		g.entries = append(g.entries[:0], g.entries[n:]...)
		st.entries -= n
	}
}

// window returns the entries within [from, to].
func window(list []entry, from, to time.Time) []entry {
	i := sort.Search(len(list), func(i int) bool { return !list[i].t.Before(from) })
	j := sort.Search(len(list), func(i int) bool { return list[i].t.After(to) })
	if i >= j {
		return nil
	}
	return list[i:j]
}

// removeEntries drops the given evidence entries (by uuid and time) from a group, so the
// next alert needs new events.
func (e *Engine) removeEntries(st *ruleState, g *group, used []entry) {
	drop := make(map[entry]bool, len(used))
	for _, u := range used {
		drop[u] = true
	}
	kept := g.entries[:0]
	for _, x := range g.entries {
		if drop[x] {
			st.entries--
			continue
		}
		kept = append(kept, x)
	}
	g.entries = kept
}

// countMeasure returns the number the condition is evaluated on: events or distinct values.
// With only lower bounds, counting stops once the bound is met, which keeps busy groups cheap.
func countMeasure(cor *sigma.Correlation, es []entry) int {
	if cor.Type == sigma.EventCount {
		return len(es)
	}
	limit := len(es)
	if cor.Cond.Monotone() {
		if cor.Cond.GTE != nil {
			limit = min(limit, int(math.Ceil(*cor.Cond.GTE)))
		}
		if cor.Cond.GT != nil {
			limit = min(limit, int(math.Floor(*cor.Cond.GT))+1)
		}
	}
	if limit <= 32 {
		var seen [32]string
		n := 0
		for _, x := range es {
			dup := false
			for _, v := range seen[:n] {
				if v == x.value {
					dup = true
					break
				}
			}
			if !dup {
				if seen[n] = x.value; n+1 >= limit {
					return n + 1
				}
				n++
			}
		}
		return n
	}
	seen := make(map[string]struct{}, len(es))
	for _, x := range es {
		seen[x.value] = struct{}{}
		if len(seen) >= limit {
			break
		}
	}
	return len(seen)
}

// countAdd handles event_count and value_count. Conditions with only lower bounds fire as
// soon as a window anchored at the new event (ending at it, or starting at it for events
// that arrived late) satisfies them; other conditions are decided when the window that
// started with the group's first event closes.
func (e *Engine) countAdd(st *ruleState, g *group, ent entry) {
	cor := st.c.rule.Correlation
	g.entries = e.insert(st, g.entries, ent)
	if !cor.Cond.Monotone() {
		return
	}
	windowsContaining(g.entries, ent.t, cor.Timespan, func(es []entry) bool {
		n := countMeasure(cor, es)
		if !cor.Cond.Holds(float64(n)) {
			return false
		}
		used := append([]entry(nil), es...)
		e.correlationHit(st, g, used, float64(n), "")
		e.removeEntries(st, g, used)
		return true
	})
}

// windowsContaining calls fn with the entries of each window of length span that contains
// t, until fn returns true. When t is the newest entry (events in order) the only window
// that matters is the one ending at t; a late event is checked against every window that
// starts at an entry at most span before it.
func windowsContaining(list []entry, t time.Time, span time.Duration, fn func([]entry) bool) {
	if n := len(list); n == 0 || !list[n-1].t.After(t) {
		fn(window(list, t.Add(-span), t))
		return
	}
	for _, s := range window(list, t.Add(-span), t) {
		if fn(window(list, s.t, s.t.Add(span))) {
			return
		}
	}
}

// countClose decides non-monotone count conditions once the watermark passes the end of
// the window that began with the group's oldest event.
func (e *Engine) countClose(st *ruleState, g *group) {
	cor := st.c.rule.Correlation
	for len(g.entries) > 0 {
		start := g.entries[0].t
		end := start.Add(cor.Timespan)
		if !end.Before(e.watermark) {
			return
		}
		es := append([]entry(nil), window(g.entries, start, end)...)
		if n := countMeasure(cor, es); cor.Cond.Holds(float64(n)) {
			e.correlationHit(st, g, es, float64(n), "")
		}
		e.removeEntries(st, g, es)
	}
}
