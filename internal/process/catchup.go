package process

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/store"
)

// latePrefix starts the state key holding where an integration's catch-up stands.
const latePrefix = "late/"

// catchup re-evaluates an integration's journal in published order from the oldest entry that
// arrived behind the live engine's watermark (a backfill, an event Okta stored late), with a
// correlation engine of its own. It rebuilds that engine's windows by feeding the replay span
// before pos silently, then raises alerts for every entry after pos, backfilled or live, up to
// the processor's offset. There it has seen every entry in published order, so its state replaces
// the live engine's.
type catchup struct {
	// pos is the position in published order up to which alerts were raised and committed; the
	// catch-up resumes after it (persisted with every commit).
	pos store.TimeKey
	// high is the newest published time of the late entries; while they keep arriving (a backfill
	// reads forward in time), Run evaluates only up to high minus the lateness, behind the
	// backfill, so that a page still to come does not restart the catch-up.
	high time.Time
	// lastLate is when (processor clock) the last late entry arrived. Once late entries have
	// stopped for LateSettle, Run lets the catch-up go on to the offset and become the live one.
	lastLate time.Time
	// eng is nil until the catch-up starts (and again after a late entry before pos). It shares
	// the integration's first_seen baseline: that keeps the first and last sighting of each value,
	// which judges a sighting by published time whatever order the sightings arrived in.
	eng *detect.Engine
	// evaluated counts the entries this catch-up evaluated since it (re)started, for the log.
	evaluated int64
}

// noteLate records a late entry: the catch-up must evaluate from it. An entry before a running
// catch-up's position restarts that catch-up from the entry.
func (p *Processor) noteLate(in *integration, e *store.Entry) {
	p.stats.Late++
	at := store.TimeKey{Published: e.Published}
	switch c := in.late; {
	case c == nil:
		in.late, in.lateDirty = &catchup{pos: at}, true
	case e.Key().Less(c.pos):
		c.pos, c.eng, in.lateDirty = at, nil, true
	}
	if e.Published.After(in.late.high) {
		in.late.high = e.Published
	}
	in.late.lastLate = p.cfg.Clock()
}

// catchUp advances the catch-ups: with settle set, every pending one to its end; otherwise one
// step of each, up to the offset when its integration had no late entry for LateSettle, else up
// to its late entries' newest time minus the lateness. A step evaluates up to budget entries and
// commits their alerts and the position with the unchanged offset. It returns the entries
// evaluated and whether a catch-up has work left.
func (p *Processor) catchUp(ctx context.Context, settle bool, budget int) (int, bool, error) {
	if !p.ready {
		if err := p.restore(ctx); err != nil {
			return 0, false, err
		}
	}
	n, more := 0, false
	for _, in := range p.integ {
		c := in.late
		if c == nil {
			continue
		}
		var until *store.TimeKey
		if !settle && p.cfg.Clock().Sub(c.lastLate) < p.cfg.LateSettle {
			until = &store.TimeKey{Published: c.high.Add(-in.eng.Lateness())}
			if !c.pos.Less(*until) {
				continue
			}
		}
		for in.late != nil {
			m, err := p.catchUpStep(ctx, in, budget, until)
			n += m
			if err != nil {
				p.ready = false
				return n, false, err
			}
			if !settle {
				more = more || (m == budget && in.late != nil)
				break
			}
		}
	}
	return n, more, nil
}

// catchUpStep starts the integration's catch-up if needed, evaluates up to budget entries after
// its position (and up to until, when set), and commits their alerts with the new position. At
// the end of the journal it hands its engine to the live side.
func (p *Processor) catchUpStep(ctx context.Context, in *integration, budget int, until *store.TimeKey) (int, error) {
	c := in.late
	if c.eng == nil {
		eng, err := detect.New(p.rs, p.engineConfig(in.base))
		if err != nil {
			return 0, err
		}
		c.eng, c.evaluated = eng, 0
		p.log.Info("processor: entries arrived behind the detection watermark; re-evaluating the journal in published order",
			"integration", in.id, "from", c.pos.Published, "replay_from", c.pos.Published.Add(-p.span))
		// Refill the windows from the replay span before pos, raising nothing: alerts that end
		// there were committed before.
		from := store.TimeKey{Published: c.pos.Published.Add(-p.span)}
		if _, _, _, err := p.feedByTime(ctx, in, c.eng, from, &c.pos, 0, true); err != nil {
			return 0, err
		}
	}
	last, alerts, n, err := p.feedByTime(ctx, in, c.eng, c.pos, until, budget, false)
	if err != nil {
		return n, err
	}
	if n > 0 {
		c.pos, in.lateDirty = last, true
	}
	p.stats.CaughtUp += int64(n)
	c.evaluated += int64(n)
	if done := until == nil && n < budget; done {
		p.log.Info("processor: late entries re-evaluated in published order", "integration", in.id, "entries", c.evaluated)
		// Every entry up to the offset was seen in published order: this engine is the live one.
		in.eng, in.late, in.lateDirty = c.eng, nil, true
	}
	if err := p.commit(ctx, p.offset, store.ProcessedBatch{Alerts: alerts}); err != nil {
		return n, err
	}
	return n, nil
}

// feedByTime feeds eng the integration's entries after `after` in published order, up to the
// processor's offset, up to and including stop (nil: no stop) and at most limit of them (0: no
// limit). It returns the position of the last entry fed, the alerts raised (none when silent)
// and how many entries it fed.
func (p *Processor) feedByTime(ctx context.Context, in *integration, eng *detect.Engine, after store.TimeKey, stop *store.TimeKey, limit int, silent bool) (store.TimeKey, []store.Alert, int, error) {
	f := store.TimeFilter{ReadFilter: store.ReadFilter{Integrations: []int64{in.id}}, MaxSeq: p.offset}
	if p.offset == 0 {
		return after, nil, 0, nil
	}
	if stop != nil {
		f.Until = stop.Published.Add(1)
	}
	var alerts []store.Alert
	n := 0
	for limit == 0 || n < limit {
		want := p.cfg.BatchSize
		if limit > 0 {
			want = min(want, limit-n)
		}
		entries, err := p.cfg.Store.ReadJournalByTime(ctx, after, want, f)
		if err != nil {
			return after, alerts, n, fmt.Errorf("processor: read journal in published order: %w", err)
		}
		for i := range entries {
			if err := ctx.Err(); err != nil {
				return after, alerts, n, err
			}
			e := &entries[i]
			if stop != nil && stop.Less(e.Key()) {
				return after, alerts, n, nil
			}
			ev, err := event.DecodeOwned(e.Raw)
			if err == nil {
				fillEventTime(e, ev)
				alerts = append(alerts, p.detect(eng, e, ev, p.normalize(e, ev), silent)...)
			}
			after = e.Key()
			n++
		}
		if len(entries) < want {
			break
		}
	}
	return after, alerts, n, nil
}

// lateState is the state entry recording an integration's catch-up position (nil value: none).
func (in *integration) lateState() store.StateEntry {
	e := store.StateEntry{Key: latePrefix + strconv.FormatInt(in.id, 10)}
	if in.late != nil {
		e.Value, _ = json.Marshal(in.late.pos) // a time, a string and an integer always marshal
	}
	return e
}
