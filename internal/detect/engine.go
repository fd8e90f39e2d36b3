package detect

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/detect/sigma"
	"github.com/idwatch/idwatch/internal/event"
)

// Config tunes an Engine. The zero value of each field selects its default.
type Config struct {
	// TimeField is the event-time field of raw events (default "published"); normalized
	// records use NormalizedTimeField (default "time", epoch milliseconds).
	TimeField           string
	NormalizedTimeField string
	// Lateness is how far behind the newest event an event may arrive and still be
	// correlated (default 5m). The watermark is the newest event time minus Lateness.
	Lateness time.Duration
	// MaxGroupsPerRule and MaxGroups cap correlation groups per rule and in total; the least
	// recently updated group of the rule is evicted beyond them (defaults 100,000 / 1,000,000).
	MaxGroupsPerRule int
	MaxGroups        int
	// MaxEntriesPerGroup caps the events a group remembers (default 1,000; oldest dropped).
	MaxEntriesPerGroup int
	// MaxEvidence caps the event uuids an alert lists (default 100).
	MaxEvidence int
	// DedupWindow is how long event uuids are remembered to drop re-delivered events
	// (default 1h).
	DedupWindow time.Duration
	// Baseline persists first_seen state; default an in-memory baseline.
	Baseline Baseline
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Lateness < 0, c.DedupWindow < 0:
		return errors.New("detect: lateness and dedup window must not be negative")
	case c.MaxGroupsPerRule < 0, c.MaxGroups < 0, c.MaxEntriesPerGroup < 0, c.MaxEvidence < 0:
		return errors.New("detect: caps must not be negative")
	}
	for _, f := range []string{c.TimeField, c.NormalizedTimeField} {
		if f == "" {
			continue
		}
		if _, err := event.ParsePath(f); err != nil {
			return fmt.Errorf("detect: time field: %w", err)
		}
	}
	return nil
}

func (c *Config) defaults() {
	if c.TimeField == "" {
		c.TimeField = "published"
	}
	if c.NormalizedTimeField == "" {
		c.NormalizedTimeField = "time"
	}
	if c.Lateness == 0 {
		c.Lateness = 5 * time.Minute
	}
	if c.MaxGroupsPerRule == 0 {
		c.MaxGroupsPerRule = 100_000
	}
	if c.MaxGroups == 0 {
		c.MaxGroups = 1_000_000
	}
	if c.MaxEntriesPerGroup == 0 {
		c.MaxEntriesPerGroup = 1000
	}
	if c.MaxEvidence == 0 {
		c.MaxEvidence = 100
	}
	if c.DedupWindow == 0 {
		c.DedupWindow = time.Hour
	}
	if c.Baseline == nil {
		c.Baseline = NewMemoryBaseline(0)
	}
}

// Input is one event for the engine: a raw Okta event (Schema "") or a normalized record of
// schema auth, cloudaudit or generic.
type Input struct {
	Fields event.Fields
	Schema string
}

// Stats describes the engine's state, for metrics and capacity planning.
type Stats struct {
	Events, Duplicates, Late, Evicted int64
	Groups, Entries                   int
	Watermark                         time.Time
}

// Engine evaluates a Ruleset over a stream of events. It is not safe for concurrent use:
// one goroutine feeds it (shard by integration for parallelism).
type Engine struct {
	rs  *Ruleset
	cfg Config
	ev  *sigma.Event

	timeSlot, normTimeSlot, uuidSlot, normUUIDSlot int
	timePath, normTimePath                         event.Path

	maxTime   time.Time
	watermark time.Time
	nextSweep time.Time

	states []*ruleState // per rule, correlations only
	groups int          // across all rules

	// seen holds the event uuids remembered against re-delivery; seenOrder lists each of
	// them exactly once, oldest at seenHead, with its event time.
	seen      map[string]struct{}
	seenOrder []seenEntry
	seenHead  int
	emitted   map[string]time.Time // alert id -> time
	suppress  map[string]time.Time // rule+group -> end of suppression
	silent    bool                 // replay: rebuild state, return no alerts

	stats Stats
	out   []Alert
	cand  []*compiled
}

// New returns an engine over rs.
func New(rs *Ruleset, cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	e := &Engine{rs: rs, cfg: cfg, seen: map[string]struct{}{},
		emitted: map[string]time.Time{}, suppress: map[string]time.Time{}}
	// The ruleset is shared and read-only: a time field it has no slot for is read directly.
	e.timePath, e.normTimePath = event.MustPath(cfg.TimeField), event.MustPath(cfg.NormalizedTimeField)
	e.timeSlot = e.lookup(e.timePath)
	e.normTimeSlot = e.lookup(e.normTimePath)
	e.uuidSlot = e.lookup(event.MustPath("uuid"))
	e.normUUIDSlot = e.lookup(event.MustPath("metadata.uid"))
	e.ev = sigma.NewEvent(rs.paths)
	e.states = make([]*ruleState, len(rs.rules))
	for _, c := range rs.rules {
		if c.rule.Correlation != nil {
			e.states[c.n] = newRuleState(c)
		}
	}
	return e, nil
}

func (e *Engine) lookup(p event.Path) int {
	if i, ok := e.rs.paths.Lookup(p); ok {
		return i
	}
	return -1
}

// Watermark is the event time before which state is final: the newest event time minus the
// configured lateness.
func (e *Engine) Watermark() time.Time { return e.watermark }

// Lateness is how far behind the newest event an event may arrive and still be correlated.
func (e *Engine) Lateness() time.Duration { return e.cfg.Lateness }

// ReplaySpan is how far back before the last processed event a restarted engine must replay
// events (with Replay) to rebuild its windows: the longest correlation timespan plus the
// lateness. first_seen baselines are persisted through Baseline and need no replay.
func (e *Engine) ReplaySpan() time.Duration {
	var m time.Duration
	for _, c := range e.rs.rules {
		if cor := c.rule.Correlation; cor != nil && cor.Type != sigma.FirstSeen && cor.Timespan > m {
			m = cor.Timespan
		}
	}
	return m + e.cfg.Lateness
}

// Stats returns counters and the size of the correlation state.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Watermark = e.watermark
	for _, st := range e.states {
		if st != nil {
			s.Groups += st.lru.Len()
			s.Entries += st.entries
		}
	}
	return s
}

// ErrNoTime is returned for an event without a readable event time.
var ErrNoTime = errors.New("detect: event has no readable time")

// Process evaluates one event and returns the alerts it raises (including correlations that
// completed and absences whose deadline the advancing watermark passed). The returned slice
// is valid until the next call.
func (e *Engine) Process(in Input) ([]Alert, error) {
	e.out = e.out[:0]
	if in.Fields == nil {
		return nil, errors.New("detect: nil event")
	}
	norm := in.Schema != ""
	if _, known := IndexKeys[in.Schema]; !known {
		return nil, fmt.Errorf("detect: unknown schema %q (auth, cloudaudit, generic or empty for raw events)", in.Schema)
	}
	e.ev.Reset(in.Fields)
	ts, ok := e.eventTime(norm)
	if !ok {
		return nil, ErrNoTime
	}
	uuid := e.eventUUID(norm)
	if uuid != "" {
		var key string
		if in.Schema != "" {
			key = uuid + "\x00" + in.Schema // one record per schema shares the event's uuid
		} else {
			// A uuid read from the event may share the raw event's memory: the dedup window
			// keeps a copy, not the whole event.
			key = strings.Clone(uuid)
		}
		if _, dup := e.seen[key]; dup {
			e.stats.Duplicates++
			return nil, nil
		}
		e.remember(key, ts)
	}
	e.stats.Events++
	if ts.After(e.maxTime) {
		e.maxTime = ts
		if wm := ts.Add(-e.cfg.Lateness); wm.After(e.watermark) {
			e.watermark = wm
		}
	}
	for _, c := range e.candidates(in.Schema) {
		if !c.rule.Detection.Match(e.ev) {
			continue
		}
		m := &match{rule: c, t: ts, ev: e.ev, uuid: uuid}
		e.matched(m)
	}
	e.maybeSweep()
	return e.out, nil
}

// Replay feeds an event to rebuild state after a restart: windows fill as in Process, but
// no alert is returned; the alert ids it would raise are remembered so that they are not
// raised again by the events that follow.
func (e *Engine) Replay(in Input) error {
	e.silent = true
	defer func() { e.silent = false }()
	_, err := e.Process(in)
	return err
}

// Advance moves the watermark to now minus the lateness when no events arrive (an idle org),
// so absence correlations and closing windows fire on time. It returns the alerts raised.
func (e *Engine) Advance(now time.Time) []Alert {
	e.out = e.out[:0]
	if wm := now.Add(-e.cfg.Lateness); wm.After(e.watermark) {
		e.watermark = wm
	}
	e.sweep()
	return e.out
}

// candidates returns the detection rules that can match the current event: those indexed
// under its values of the index keys, and those no key narrows.
func (e *Engine) candidates(schema string) []*compiled {
	e.cand = e.cand[:0]
	for _, ki := range e.rs.index[schema] {
		if len(ki.rules) == 0 {
			continue
		}
		for _, l := range e.ev.Values(ki.slot) {
			if l.HasS {
				e.cand = append(e.cand, ki.rules[l.Lower()]...)
				break
			}
		}
	}
	e.cand = append(e.cand, e.rs.always[schema]...)
	return e.cand
}

func (e *Engine) eventTime(norm bool) (time.Time, bool) {
	slot, p := e.timeSlot, e.timePath
	if norm {
		slot, p = e.normTimeSlot, e.normTimePath
	} else if le, ok := any(e.ev.Fields()).(*event.LogEvent); ok && e.cfg.TimeField == "published" && !le.Published.IsZero() {
		return le.Published.UTC(), true // typed events need no text round trip
	}
	var t time.Time
	found := false
	try := func(v any) bool {
		t, found = parseTime(v)
		return !found
	}
	if slot >= 0 {
		for _, l := range e.ev.Values(slot) {
			if !try(l.V) {
				break
			}
		}
	} else {
		e.ev.Fields().Each(p, try)
	}
	return t, found
}

// parseTime reads an event time with the decoder's parser, so raw events, exported events and
// normalized records (epoch milliseconds) are read alike whichever path they came by.
func parseTime(v any) (time.Time, bool) {
	t, err := event.ParseTimeValue(v)
	return t, err == nil
}

func (e *Engine) eventUUID(norm bool) string {
	slot := e.uuidSlot
	if norm {
		slot = e.normUUIDSlot
	}
	for _, l := range e.ev.Values(slot) {
		if l.HasS {
			return l.S
		}
	}
	return ""
}

type seenEntry struct {
	key string
	t   time.Time
}

func (e *Engine) remember(key string, t time.Time) {
	e.seen[key] = struct{}{}
	e.seenOrder = append(e.seenOrder, seenEntry{key, t})
	// Bounded by count as well as by time, so a burst cannot grow it without limit.
	for e.seenLen() > 4*e.cfg.MaxGroupsPerRule {
		e.forgetOldestSeen()
	}
}

func (e *Engine) seenLen() int { return len(e.seenOrder) - e.seenHead }

func (e *Engine) forgetOldestSeen() {
	s := e.seenOrder[e.seenHead]
	delete(e.seen, s.key) // a uuid is added only when absent, so this entry is its only one
	e.seenOrder[e.seenHead] = seenEntry{}
	e.seenHead++
	if e.seenHead > 1024 && e.seenHead*2 > len(e.seenOrder) {
		e.seenOrder = append(e.seenOrder[:0], e.seenOrder[e.seenHead:]...)
		e.seenHead = 0
	}
}

// sweepEvery is the event-time step between sweeps of expired state.
const sweepEvery = 30 * time.Second

func (e *Engine) maybeSweep() {
	if e.watermark.Before(e.nextSweep) {
		return
	}
	e.sweep()
}

// sweep fires absences and closing windows the watermark passed, and evicts expired state.
func (e *Engine) sweep() {
	e.nextSweep = e.watermark.Add(sweepEvery)
	for _, st := range e.states {
		if st != nil {
			st.expire(e)
		}
	}
	horizon := e.watermark.Add(-e.cfg.DedupWindow)
	for e.seenLen() > 0 && e.seenOrder[e.seenHead].t.Before(horizon) {
		e.forgetOldestSeen()
	}
	for id, t := range e.emitted {
		if t.Before(e.watermark.Add(-24 * time.Hour)) {
			delete(e.emitted, id)
		}
	}
	for k, until := range e.suppress {
		if until.Before(e.watermark) {
			delete(e.suppress, k)
		}
	}
}
