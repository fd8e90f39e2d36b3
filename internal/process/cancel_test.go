package process

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/benchutil"
	"github.com/idwatch/idwatch/internal/store"
)

// TestProcessorStopsBetweenEvents: a cancelled processor stops after the event in hand, not at
// the end of its batch (which may hold many large events), and commits nothing of the batch.
func TestProcessorStopsBetweenEvents(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	var evs []store.Event
	for i := range 20 {
		uuid := "u-big-" + string(rune('a'+i))
		evs = append(evs, store.Event{UUID: uuid, Published: start, EventType: "user.authentication.sso",
			Raw: benchutil.Hostile{Keys: 2000, Extra: 10, Depth: 20}.Event(uuid)})
	}
	if _, err := s.AppendPage(t.Context(), 1, evs, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls := 0
	// The clock is read once per event processed: cancel while the second is in hand.
	clock := func() time.Time {
		if calls++; calls == 2 {
			cancel()
		}
		return fixedClock()
	}
	p, err := New(t.Context(), Config{Store: s, BatchSize: 100, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	n, err := p.ProcessAvailable(ctx)
	if !errors.Is(err, context.Canceled) || n != 0 {
		t.Fatalf("ProcessAvailable = %d, %v; want 0, context.Canceled", n, err)
	}
	if calls != 2 {
		t.Errorf("processed %d events after cancellation, want to stop after the one in hand", calls-2)
	}
	if off, err := s.Offset(t.Context(), p.cfg.Consumer); err != nil || off != 0 {
		t.Errorf("offset %d, %v: want nothing committed", off, err)
	}
	// A new run processes everything, each large event bounded and flagged.
	p2 := newProcessor(t, s, 100)
	if got := drain(t, p2); got != len(evs) {
		t.Fatalf("second run processed %d, want %d", got, len(evs))
	}
	if st := p2.Stats(); st.Undecodable != 0 || st.Records == 0 {
		t.Errorf("stats %+v", st)
	}
}
