package storetest

import (
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

func (su suite) processing(t *testing.T) {
	t.Run("CommitAndRead", func(t *testing.T) {
		f := su.open(t)
		f.appendPage(1, events("a", 6, epoch), nil)
		_, err := f.s.RegisterConsumer(f.ctx, "processor", store.StreamJournal, 0)
		f.must(err)
		batch := store.ProcessedBatch{Alerts: []store.Alert{sampleAlert("al1", epoch)},
			State: []store.StateEntry{{Key: "k1", Value: []byte("v1")}, {Key: "k2", Value: []byte("v2")}}}
		res, err := f.s.CommitProcessed(f.ctx, "processor", 4, batch)
		f.must(err)
		if res != (store.ProcessedResult{Alerts: 1}) {
			t.Fatalf("first commit: %+v", res)
		}
		if off, err := f.s.Offset(f.ctx, "processor"); err != nil || off != 4 {
			t.Fatalf("offset %d %v, want 4", off, err)
		}
		// A replay of the same batch stores nothing twice and leaves the offset where it is.
		res, err = f.s.CommitProcessed(f.ctx, "processor", 4, batch)
		f.must(err)
		if res != (store.ProcessedResult{}) {
			t.Fatalf("replayed commit stored %+v", res)
		}
		if off, _ := f.s.Offset(f.ctx, "processor"); off != 4 {
			t.Fatalf("offset moved back to %d", off)
		}
		state, err := f.s.ConsumerState(f.ctx, "processor")
		f.must(err)
		if len(state) != 2 || state[0].Key != "k1" || string(state[1].Value) != "v2" {
			t.Fatalf("state %+v", state)
		}
		// A nil value deletes the key; others are replaced.
		_, err = f.s.CommitProcessed(f.ctx, "processor", 5, store.ProcessedBatch{
			State: []store.StateEntry{{Key: "k1"}, {Key: "k2", Value: []byte("v2b")}}})
		f.must(err)
		state, err = f.s.ConsumerState(f.ctx, "processor")
		f.must(err)
		if len(state) != 1 || state[0].Key != "k2" || string(state[0].Value) != "v2b" {
			t.Fatalf("state after update %+v", state)
		}
		_, err = f.s.CommitProcessed(f.ctx, "processor", 7, store.ProcessedBatch{})
		wantErr(t, "offset beyond the journal", err, store.ErrInvalid)
		_, err = f.s.CommitProcessed(f.ctx, "nobody", 1, store.ProcessedBatch{})
		wantErr(t, "unregistered consumer", err, store.ErrNotFound)
		_, err = f.s.CommitProcessed(f.ctx, "processor", 6, store.ProcessedBatch{State: []store.StateEntry{{Value: []byte("v")}}})
		wantErr(t, "state entry without key", err, store.ErrInvalid)
		f.must(f.s.UnregisterConsumer(f.ctx, "processor"))
		if state, err := f.s.ConsumerState(f.ctx, "processor"); err != nil || len(state) != 0 {
			t.Fatalf("state survived unregistering: %+v %v", state, err)
		}
	})
	t.Run("Atomic", func(t *testing.T) {
		f := su.open(t)
		f.appendPage(1, events("a", 4, epoch), nil)
		_, err := f.s.RegisterConsumer(f.ctx, "processor", store.StreamJournal, 0)
		f.must(err)
		f.arm(store.FaultBeforeProcessedOffset)
		_, err = f.s.CommitProcessed(f.ctx, "processor", 4, store.ProcessedBatch{
			Alerts: []store.Alert{sampleAlert("al1", epoch)}, State: []store.StateEntry{{Key: "k", Value: []byte("v")}}})
		wantErr(t, "commit with a fault before the offset", err, errInjected)
		f.disarm()
		alerts, err := f.s.ReadAlerts(f.ctx, 0, 10)
		f.must(err)
		state, err := f.s.ConsumerState(f.ctx, "processor")
		f.must(err)
		off, err := f.s.Offset(f.ctx, "processor")
		f.must(err)
		last, err := f.s.LastAlertSeq(f.ctx)
		f.must(err)
		if len(alerts)+len(state) != 0 || off != 0 || last != 0 {
			t.Fatalf("failed commit left alerts %d, state %d, offset %d, alert seq %d", len(alerts), len(state), off, last)
		}
	})
	t.Run("RetentionAndSeqBefore", func(t *testing.T) {
		f := su.open(t)
		// Entries 1..6, one second apart.
		f.appendPage(1, events("a", 6, epoch), nil)
		at := func(seq int64) time.Time { return epoch.Add(time.Duration(seq-1) * time.Millisecond) }
		for _, c := range []struct {
			t         time.Time
			below     int64
			want      int64
			situation string
		}{
			{at(4), 6, 3, "entry before the fourth"},
			{at(4).Add(1), 6, 4, "just after the fourth"},
			{at(4), 2, 2, "bounded above"},
			{at(1), 6, 0, "nothing older"},
			{at(7), 6, 6, "everything older"},
		} {
			got, err := f.s.SeqBefore(f.ctx, c.t, c.below)
			f.must(err)
			if got != c.want {
				t.Errorf("%s: SeqBefore = %d, want %d", c.situation, got, c.want)
			}
		}
		_, err := f.s.RegisterConsumer(f.ctx, "processor", store.StreamJournal, 0)
		f.must(err)
	})
}
