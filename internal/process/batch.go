package process

import (
	"context"
	"encoding/json"
	"fmt"
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
	if from, ok := p.replayStart(); ok && off > 0 {
		start, err := st.SeqBefore(ctx, from, off)
		if err != nil {
			return fmt.Errorf("processor: %w", err)
		}
		if err := p.replay(ctx, start, off); err != nil {
			return err
		}
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
	}
	return fmt.Errorf("unknown state key %q", e.Key)
}

// replayStart is the event time replay must start at: the earliest, over the integrations active
// within replayHorizon of the newest, of their newest event time minus the replay span.
func (p *Processor) replayStart() (time.Time, bool) {
	var newest time.Time
	for _, in := range p.integ {
		if in.maxTime.After(newest) {
			newest = in.maxTime
		}
	}
	if newest.IsZero() {
		return time.Time{}, false
	}
	from := newest
	for _, in := range p.integ {
		if !in.maxTime.IsZero() && !in.maxTime.Before(newest.Add(-replayHorizon)) {
			from = minTime(from, in.maxTime.Add(-p.span))
		}
	}
	return from, true
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// replay feeds entries (after, upto] to the engines silently, so windows refill and the alerts
// they already raised are remembered, not raised again.
func (p *Processor) replay(ctx context.Context, after, upto int64) error {
	for after < upto {
		entries, err := p.cfg.Store.ReadJournal(ctx, after, int(min(int64(p.cfg.BatchSize), upto-after)), store.ReadFilter{})
		if err != nil {
			return fmt.Errorf("processor: replay: %w", err)
		}
		if len(entries) == 0 {
			return nil
		}
		for i := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			if entries[i].Seq > upto {
				return nil
			}
			if _, _, err := p.evaluate(&entries[i], nil, true); err != nil {
				return err
			}
			p.stats.Replayed++
		}
		after = entries[len(entries)-1].Seq
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
			sa, err := storedAlert(&a, in.id)
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
	for i := range entries {
		// A batch of large events can take a while: stop between events when asked, committing
		// nothing (the batch is read again on the next start).
		if err := ctx.Err(); err != nil {
			return err
		}
		recs, alerts, err := p.evaluate(&entries[i], b.Records, false)
		if err != nil {
			return err
		}
		b.Records = recs
		b.Alerts = append(b.Alerts, alerts...)
	}
	if err := p.commit(ctx, entries[len(entries)-1].Seq, b); err != nil {
		return err
	}
	p.stats.Entries += int64(len(entries))
	return nil
}

// commit stores a batch with the integrations' state changes and moves the offset to last.
func (p *Processor) commit(ctx context.Context, last int64, b store.ProcessedBatch) error {
	for _, in := range p.integ {
		b.State = in.base.changes(b.State)
		if in.touched {
			b.State = append(b.State, store.StateEntry{Key: maxTimePrefix + strconv.FormatInt(in.id, 10),
				Value: []byte(in.maxTime.Format(time.RFC3339Nano))})
			in.touched = false
		}
	}
	res, err := p.cfg.Store.CommitProcessed(ctx, p.cfg.Consumer, last, b)
	if err != nil {
		return fmt.Errorf("processor: commit up to seq %d: %w", last, err)
	}
	p.offset = last
	if p.cfg.Committed != nil {
		p.cfg.Committed(last)
	}
	p.stats.Records += int64(res.Records)
	p.stats.Alerts += int64(res.Alerts)
	return nil
}

// evaluate decodes and normalizes one entry and runs its integration's engine on the raw event
// and on each record. Unless silent (replay), it appends the records to recs and returns them
// with the alerts raised. Entries that are not events, and inputs the engine refuses, are logged
// and skipped: one bad event must not stop the stream.
func (p *Processor) evaluate(e *store.Entry, recs []store.Record, silent bool) ([]store.Record, []store.Alert, error) {
	in, err := p.engineFor(e.IntegrationID)
	if err != nil {
		return recs, nil, err
	}
	ev, err := event.DecodeOwned(e.Raw)
	if err != nil {
		if !silent {
			p.stats.Undecodable++
			p.log.Warn("processor: skipped a journal entry that is not an Okta event", "seq", e.Seq, "uuid", e.UUID, "err", err)
		}
		return recs, nil, nil
	}
	if ev.Published.After(in.maxTime) {
		in.maxTime, in.touched = ev.Published, true
	}
	nrecs := p.norm.Normalize(ev, normalize.Meta{TenantUID: strconv.FormatInt(e.IntegrationID, 10), LoggedTime: e.StoredAt,
		ProcessedTime: p.cfg.Clock(), Raw: e.Raw})
	var alerts []store.Alert
	run := func(in *integration, input detect.Input) error {
		if silent {
			return in.eng.Replay(input)
		}
		as, err := in.eng.Process(input)
		if err != nil {
			return err
		}
		for i := range as {
			a, err := storedAlert(&as[i], e.IntegrationID)
			if err != nil {
				return err
			}
			alerts = append(alerts, a)
		}
		return nil
	}
	inputs := make([]detect.Input, 0, 1+len(nrecs))
	inputs = append(inputs, detect.Input{Fields: ev})
	for _, r := range nrecs {
		inputs = append(inputs, detect.Input{Fields: recordFields{r}, Schema: string(r.Schema)})
	}
	for _, input := range inputs {
		if err := run(in, input); err != nil && !silent {
			p.stats.Unevaluated++
			p.log.Warn("processor: the detection engine skipped an event", "seq", e.Seq, "uuid", e.UUID, "schema", input.Schema, "err", err)
		}
	}
	if silent {
		return recs, nil, nil
	}
	for _, r := range nrecs {
		p.buf, err = r.AppendJSON(p.buf[:0], normalize.EncodeOptions{OmitRawData: !p.cfg.KeepRawData})
		if err != nil {
			return recs, nil, fmt.Errorf("processor: encode record of seq %d: %w", e.Seq, err)
		}
		recs = append(recs, store.Record{Seq: e.Seq, Schema: string(r.Schema), IntegrationID: e.IntegrationID,
			ClassUID: r.OCSF.ClassUID, UUID: e.UUID, Time: ev.Published, Body: append(json.RawMessage(nil), p.buf...)})
	}
	return recs, alerts, nil
}

// storedAlert renders an engine alert as a stored Detection Finding of an integration.
func storedAlert(a *detect.Alert, integrationID int64) (store.Alert, error) {
	f := a.Finding()
	if md, ok := f["metadata"].(map[string]any); ok {
		md["tenant_uid"] = strconv.FormatInt(integrationID, 10)
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
