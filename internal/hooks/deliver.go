package hooks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/store"
)

// envelope is the part of a com.okta.event_hook delivery the receiver reads.
type envelope struct {
	EventType string `json:"eventType"`
	Source    string `json:"source"`
	EventID   string `json:"eventId"`
	Data      struct {
		Events []json.RawMessage `json:"events"`
	} `json:"data"`
}

// deliver stores one POST delivery in the journal, then acknowledges it.
func (r *Receiver) deliver(w http.ResponseWriter, req *http.Request) {
	name := req.PathValue("integration")
	if req.ContentLength > r.opt.MaxBodyBytes {
		r.refuse(w, unknownLabel, "too_large", http.StatusRequestEntityTooLarge)
		return
	}
	t, in, hook := r.authorize(w, req)
	if t == nil {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.opt.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		r.refuse(w, name, "too_large", http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		r.refuse(w, name, "malformed", http.StatusBadRequest)
		return
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || env.Data.Events == nil {
		r.log.Warn("event hook: delivery is not a com.okta.event_hook envelope; refused", "integration", in.Name)
		r.refuse(w, name, "malformed", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	seen := env.EventID != "" && t.recent.has(env.EventID)
	r.mu.Unlock()
	if !sameOrg(env.Source, in, hook) {
		r.log.Warn("event hook: delivery from another org refused", "integration", in.Name, "source", env.Source)
		r.refuse(w, name, "other_org", http.StatusForbidden)
		return
	}
	if seen {
		r.metrics.requests.WithLabelValues(name, "duplicate").Inc()
		w.WriteHeader(http.StatusOK)
		return
	}
	events, bad := decodePushed(env.Data.Events)
	if bad > 0 {
		r.log.Warn("event hook: events without uuid or published time; stored under a content hash", "integration", in.Name, "count", bad)
	}
	start := r.opt.Clock.Now()
	ctx, cancel := context.WithTimeout(req.Context(), r.opt.AppendTimeout)
	res, err := r.opt.Store.AppendPage(ctx, in.ID, events, nil)
	cancel()
	if err != nil {
		r.log.Error("event hook: journal append failed; Okta will retry", "integration", in.Name, "events", len(events), "err", err)
		r.refuse(w, name, "store_error", http.StatusServiceUnavailable)
		return
	}
	now := r.opt.Clock.Now()
	r.metrics.appendSeconds.WithLabelValues(name).Observe(now.Sub(start).Seconds())
	r.metrics.events.WithLabelValues(name, "inserted").Add(float64(res.Inserted))
	r.metrics.events.WithLabelValues(name, "duplicate").Add(float64(res.Duplicates))
	r.metrics.requests.WithLabelValues(name, "accepted").Inc()
	w.WriteHeader(http.StatusOK)
	r.record(req.Context(), t, in, env.EventID, len(events), now)
}

// record remembers the eventId and adds the delivery to the statistics, writing them to the
// store at most every statsEvery.
func (r *Receiver) record(ctx context.Context, t *target, in store.Integration, eventID string, events int, now time.Time) {
	r.mu.Lock()
	if eventID != "" {
		t.recent.add(eventID)
	}
	t.pending.Deliveries++
	t.pending.Events += int64(events)
	t.pending.At = now
	var flush store.HookDeliveries
	if elapsed := now.Sub(t.flushed); elapsed >= statsEvery {
		flush = t.pending
		flush.PerMinute = float64(flush.Deliveries) / elapsed.Minutes()
		t.pending, t.flushed = store.HookDeliveries{}, now
	}
	r.mu.Unlock()
	if flush.Deliveries == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opt.AppendTimeout)
	defer cancel()
	if err := r.opt.Store.RecordHookDeliveries(ctx, in.ID, flush); err != nil {
		r.log.Warn("event hook: delivery statistics not stored", "integration", in.Name, "err", err)
	}
}

// Flush writes the delivery statistics not yet stored (on shutdown).
func (r *Receiver) Flush(ctx context.Context) {
	r.mu.Lock()
	type item struct {
		id int64
		d  store.HookDeliveries
	}
	var items []item
	now := r.opt.Clock.Now()
	for _, t := range r.integ {
		if t.pending.Deliveries > 0 {
			d := t.pending
			if el := now.Sub(t.flushed); el > 0 {
				d.PerMinute = float64(d.Deliveries) / el.Minutes()
			}
			items = append(items, item{t.in.ID, d})
			t.pending, t.flushed = store.HookDeliveries{}, now
		}
	}
	r.mu.Unlock()
	for _, it := range items {
		if err := r.opt.Store.RecordHookDeliveries(ctx, it.id, it.d); err != nil {
			r.log.Warn("event hook: delivery statistics not stored", "err", err)
		}
	}
}

// pushedKeys is what the journal needs of each pushed event.
type pushedKeys struct {
	UUID      any `json:"uuid"`
	Published any `json:"published"`
	EventType any `json:"eventType"`
}

// decodePushed turns a delivery's events into journal events marked as pushed. Hook events
// have the System Log LogEvent shape, plus top-level fields the System Log API leaves out or
// sends differently (insertionTimestamp, device as null): top-level null members are dropped,
// so that a pushed copy normalizes exactly as the polled copy would. An event without a usable
// uuid is kept under a hash of its content and counted in bad, as the poller does.
func decodePushed(items []json.RawMessage) (events []store.Event, bad int) {
	events = make([]store.Event, 0, len(items))
	for _, raw := range items {
		raw = dropTopLevelNulls(raw)
		var k pushedKeys
		_ = json.Unmarshal(raw, &k)
		ev := store.Event{Raw: raw, Source: store.SourcePush}
		ev.UUID, _ = k.UUID.(string)
		ev.EventType, _ = k.EventType.(string)
		t, err := event.ParseTimeValue(k.Published)
		if ev.UUID == "" || err != nil {
			bad++
		}
		if ev.UUID == "" {
			sum := sha256.Sum256(raw)
			ev.UUID = "sha256:" + hex.EncodeToString(sum[:16])
		}
		if err == nil {
			ev.Published = t
		}
		events = append(events, ev)
	}
	return events, bad
}

// dropTopLevelNulls removes top-level members whose value is null; anything that is not a
// JSON object is returned unchanged.
func dropTopLevelNulls(raw json.RawMessage) json.RawMessage {
	if !bytes.Contains(raw, []byte("null")) {
		return raw
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	n := len(m)
	for k, v := range m {
		if string(bytes.TrimSpace(v)) == "null" {
			delete(m, k)
		}
	}
	if len(m) == n {
		return raw
	}
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return out
}
