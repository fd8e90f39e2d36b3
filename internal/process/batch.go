package process

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/store"
)

// maxTimePrefix starts the state key holding an integration's newest event time.
const maxTimePrefix = "maxtime/"

// replayHorizon bounds replay for orgs that went quiet: an integration whose newest event is this
// much older than the newest of all is not replayed (its windows closed long ago).
const replayHorizon = 24 * time.Hour

// engineFor returns the integration's detection state, creating it on first use.
func (p *Processor) engineFor(id int64) (*integration, error) {
	if in := p.integ[id]; in != nil {
		return in, nil
	}
	in := &integration{id: id, base: newBaseline(id, p.cfg.MaxBaselineEntries)}
	eng, err := detect.New(p.rs, p.engineConfig(in.base))
	if err != nil {
		return nil, err
	}
	in.eng = eng
	p.integ[id] = in
	return in, nil
}

// restore rebuilds the processor's state from the store: the offset, each integration's
// baseline and newest event time, and the correlation windows, by replaying the journal from the
// newest event time minus the engine's replay span up to the offset without raising alerts.
func (p *Processor) restore(ctx context.Context) error {
	st := p.cfg.Store
	off, err := st.Offset(ctx, p.cfg.Consumer)
	if err != nil {
		return fmt.Errorf("processor: %w", err)
	}
	state, err := st.ConsumerState(ctx, p.cfg.Consumer)
	if err != nil {
		return fmt.Errorf("processor: %w", err)
	}
	p.offset, p.integ = off, map[int64]*integration{}
	for _, e := range state {
		if err := p.restoreEntry(e); err != nil {
			p.log.Warn("processor: ignored a stored state entry", "err", err)
		}
	}
	if err := p.replay(ctx); err != nil {
		return err
	}
	if b, err := st.Bounds(ctx); err == nil && b.FirstSeq > off+1 {
		p.log.Warn("processor: the journal retention cap removed entries before the processor read them; they were not normalized or checked",
			"offset", off, "first_seq", b.FirstSeq, "missed", b.FirstSeq-off-1)
	}
	p.ready = true
	return nil
}

// restoreEntry loads one stored state entry.
func (p *Processor) restoreEntry(e store.StateEntry) error {
	kind, rest, _ := strings.Cut(e.Key, "/")
	idText, _, _ := strings.Cut(rest, "/")
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return fmt.Errorf("state key %q: %w", e.Key, err)
	}
	in, err := p.engineFor(id)
	if err != nil {
		return err
	}
	switch kind + "/" {
	case maxTimePrefix:
		t, err := time.Parse(time.RFC3339Nano, string(e.Value))
		if err != nil {
			return fmt.Errorf("state key %q: %w", e.Key, err)
		}
		in.maxTime = t
		return nil
	case "baseline/":
		return in.base.restore(e)
	case latePrefix:
		var pos store.TimeKey
		if err := json.Unmarshal(e.Value, &pos); err != nil {
			return fmt.Errorf("state key %q: %w", e.Key, err)
		}
		// Run waits LateSettle again: a backfill may still be running.
		in.late = &catchup{pos: pos, high: pos.Published, lastLate: p.cfg.Clock()}
		return nil
	}
	return fmt.Errorf("unknown state key %q", e.Key)
}

// replay rebuilds the live engine of every integration active within replayHorizon of the newest:
// it feeds the integration's entries up to the offset, from its newest event time minus the replay
// span, in published order and silently, so windows refill as an uninterrupted run left them and
// the alerts they already raised are remembered, not raised again. A catch-up rebuilds its own
// engine when it starts.
func (p *Processor) replay(ctx context.Context) error {
	var newest time.Time
	for _, in := range p.integ {
		if in.maxTime.After(newest) {
			newest = in.maxTime
		}
	}
	for _, in := range p.integ {
		if in.maxTime.IsZero() || in.maxTime.Before(newest.Add(-replayHorizon)) {
			continue
		}
		_, _, n, err := p.feedByTime(ctx, in, in.eng, store.TimeKey{Published: in.maxTime.Add(-p.span)}, nil, 0, true)
		p.stats.Replayed += int64(n)
		if err != nil {
			return fmt.Errorf("processor: replay: %w", err)
		}
	}
	return nil
}

// AdvanceIdle moves every integration's event time to now (when it is behind), so absences and
// windows that the watermark passes fire without new events, and commits the alerts raised with
// the unchanged offset. Run calls it with the clock minus IdleDelay whenever the journal is
// caught up.
func (p *Processor) AdvanceIdle(ctx context.Context, now time.Time) error {
	if !p.ready {
		if err := p.restore(ctx); err != nil {
			return err
		}
	}
	var b store.ProcessedBatch
	for _, in := range p.integ {
		for _, a := range in.eng.Advance(now) {
			sa, err := storedAlert(&a, in.id, nil, nil)
			if err != nil {
				return err
			}
			b.Alerts = append(b.Alerts, sa)
		}
	}
	if len(b.Alerts) == 0 {
		return nil
	}
	if err := p.commit(ctx, p.offset, b); err != nil {
		p.ready = false
		return err
	}
	return nil
}

// processBatch evaluates entries and commits what they produced with the offset.
func (p *Processor) processBatch(ctx context.Context, entries []store.Entry) error {
	var b store.ProcessedBatch
	var alerting []*store.Entry
	// In published order within the batch, so the live engines see as little disorder as the
	// journal allows.
	order := p.order[:0]
	for i := range entries {
		order = append(order, &entries[i])
	}
	slices.SortStableFunc(order, func(a, b *store.Entry) int {
		if a.Key().Less(b.Key()) {
			return -1
		}
		if b.Key().Less(a.Key()) {
			return 1
		}
		return 0
	})
	p.order = order
	for _, e := range order {
		// A batch of large events can take a while: stop between events when asked, committing
		// nothing (the batch is read again on the next start).
		if err := ctx.Err(); err != nil {
			return err
		}
		alerts, err := p.evaluate(e)
		if err != nil {
			return err
		}
		b.Alerts = append(b.Alerts, alerts...)
		if len(alerts) > 0 && p.cfg.Observe != nil {
			alerting = append(alerting, e)
		}
	}
	if err := p.commit(ctx, entries[len(entries)-1].Seq, b); err != nil {
		return err
	}
	if p.cfg.Observe != nil {
		p.cfg.Observe(entries, alerting)
	}
	p.stats.Entries += int64(len(entries))
	return nil
}

// commit stores a batch with the integrations' state changes and moves the offset to last.
func (p *Processor) commit(ctx context.Context, last int64, b store.ProcessedBatch) error {
	for _, in := range p.integ {
		b.State = in.base.changes(b.State)
		if in.lateDirty {
			b.State = append(b.State, in.lateState())
			in.lateDirty = false
		}
		if in.touched {
			b.State = append(b.State, store.StateEntry{Key: maxTimePrefix + strconv.FormatInt(in.id, 10),
				Value: []byte(in.maxTime.Format(time.RFC3339Nano))})
			in.touched = false
		}
	}
	b.Alerts = p.enabledAlerts(b.Alerts)
	if err := p.addEvidenceEntities(ctx, b.Alerts); err != nil {
		return fmt.Errorf("processor: commit up to seq %d: %w", last, err)
	}
	res, err := p.cfg.Store.CommitProcessed(ctx, p.cfg.Consumer, last, b)
	if err != nil {
		return fmt.Errorf("processor: commit up to seq %d: %w", last, err)
	}
	p.offset = last
	if p.cfg.Committed != nil {
		p.cfg.Committed(last)
	}
	p.stats.Alerts += int64(res.Alerts)
	return nil
}

// evaluate decodes and normalizes one entry and runs the live engine of its integration on the
// raw event and on each record, returning the alerts raised. The records are not stored: a sink
// or the API derives them from the journal entry when it needs them. An
// entry published behind that engine's watermark is late: the live engine would judge it against
// windows that have moved on, so it is left to the integration's catch-up, which evaluates it in
// published order. Entries that are not events, and inputs the engine refuses, are logged and
// skipped: one bad event must not stop the stream.
func (p *Processor) evaluate(e *store.Entry) ([]store.Alert, error) {
	in, err := p.engineFor(e.IntegrationID)
	if err != nil {
		return nil, err
	}
	// The event is done with when evaluate returns (engines, baselines and alerts keep copies),
	// so its memory serves the next one.
	ev, err := p.dec.DecodeOwned(e.Raw)
	if err != nil {
		p.stats.Undecodable++
		p.log.Warn("processor: skipped a journal entry that is not an Okta event", "seq", e.Seq, "uuid", e.UUID, "err", err)
		return nil, nil
	}
	if len(ev.Flaws) > 0 {
		p.stats.Flawed++
		p.log.Warn("processor: kept an event with fields it could not read; its records list them in unmapped.unreadable_fields",
			"seq", e.Seq, "uuid", e.UUID, "flaws", flawList(ev.Flaws))
	}
	fillEventTime(e, ev)
	nrecs := p.normalize(e, ev)
	p.stats.Records += int64(len(nrecs))
	var alerts []store.Alert
	if wm := in.eng.Watermark(); !e.Published.IsZero() && e.Published.Before(wm) {
		p.noteLate(in, e)
	} else {
		if ev.Published.After(in.maxTime) {
			in.maxTime, in.touched = ev.Published, true
		}
		alerts = p.detect(in.eng, e, ev, nrecs, false)
		// A running catch-up that already passed this entry's place sees it now, out of order as
		// the live engine does, so that its state lacks nothing when it becomes the live one.
		if c := in.late; c != nil && c.eng != nil && e.Key().Less(c.pos) {
			alerts = append(alerts, p.detect(c.eng, e, ev, nrecs, false)...)
		}
	}
	return alerts, nil
}

// fillEventTime gives an event without a readable published time the time the journal has for it,
// so that it is still correlated (its records list the unreadable field).
func fillEventTime(e *store.Entry, ev *event.LogEvent) {
	if !ev.Published.IsZero() {
		return
	}
	ev.Published = e.Published
	if ev.Published.IsZero() {
		ev.Published = e.StoredAt
	}
}

// normalize maps a decoded entry to its OCSF records, valid until the next call: every caller is
// done with an entry's records (the engines keep copies of what they need) before it normalizes
// the next, so their memory is reused.
func (p *Processor) normalize(e *store.Entry, ev *event.LogEvent) []*normalize.Record {
	return p.norm.NormalizeInto(&p.scratch, ev, normalize.Meta{TenantUID: strconv.FormatInt(e.IntegrationID, 10), LoggedTime: e.StoredAt,
		ProcessedTime: p.cfg.Clock(), Raw: e.Raw, Enricher: p.cfg.enricherOf(e.IntegrationID)})
}

// detect runs eng on the raw event and on each of its records (DetectEvent). Unless silent
// (rebuilding state), it returns the alerts raised as stored alerts of the entry's integration.
func (p *Processor) detect(eng *detect.Engine, e *store.Entry, ev *event.LogEvent, nrecs []*normalize.Record, silent bool) []store.Alert {
	as := DetectEvent(eng, ev, nrecs, silent, func(schema string, err error) { p.unevaluated(e, schema, err, silent) })
	var alerts []store.Alert
	var users map[string]any
	if len(as) > 0 {
		users = enrichedUsers(nrecs)
	}
	for i := range as {
		a, err := storedAlert(&as[i], e.IntegrationID, eventEntities(ev), users)
		if err != nil {
			p.unevaluated(e, "", err, silent)
			continue
		}
		alerts = append(alerts, a)
	}
	return alerts
}

// unevaluated counts and logs an input the engine refused (once: not again when rebuilding state).
func (p *Processor) unevaluated(e *store.Entry, schema string, err error, silent bool) {
	if silent {
		return
	}
	p.stats.Unevaluated++
	p.log.Warn("processor: the detection engine skipped an event", "seq", e.Seq, "uuid", e.UUID, "schema", schema, "err", err)
}

// flawList renders an event's flaws for a log line, the first few in full.
func flawList(fs []event.Flaw) string {
	const show = 5
	var b strings.Builder
	for i, f := range fs {
		if i == show {
			fmt.Fprintf(&b, "; and %d more", len(fs)-show)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.String())
	}
	return b.String()
}

// storedAlert renders an engine alert as a stored Detection Finding of an integration; entities
// (of the event that raised it) go to unmapped.entities for incident grouping, and commit adds
// those of its other evidence events (addEvidenceEntities). users, when the inventory knows the
// event's actor or subject user, is the enriched evidence (enrichedUsers).
func storedAlert(a *detect.Alert, integrationID int64, entities []string, users map[string]any) (store.Alert, error) {
	f := a.Finding()
	if users != nil {
		f["evidences"] = []any{users}
	}
	if md, ok := f["metadata"].(map[string]any); ok {
		md["tenant_uid"] = strconv.FormatInt(integrationID, 10)
	}
	if um, ok := f["unmapped"].(map[string]any); ok && len(entities) > 0 {
		um["entities"] = entities
	}
	body, err := json.Marshal(f)
	if err != nil {
		return store.Alert{}, fmt.Errorf("processor: encode alert %s: %w", a.ID, err)
	}
	level := a.Level
	if level == "" {
		level = "medium"
	}
	return store.Alert{ID: a.ID, RuleID: a.RuleID, Severity: level, Time: a.Time, IntegrationID: integrationID,
		GroupKey: groupKey(a.Group), Body: body}, nil
}

// groupKey renders an alert's group as "field=value, …".
func groupKey(g []detect.KV) string {
	parts := make([]string, len(g))
	for i, kv := range g {
		parts[i] = kv.Key + "=" + kv.Value
	}
	return strings.Join(parts, ", ")
}
