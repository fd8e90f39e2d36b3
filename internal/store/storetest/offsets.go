package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

func (su suite) offsets(t *testing.T) {
	f := su.open(t)
	f.appendPage(1, events("a", 10, epoch), nil)
	_, err := f.s.Offset(f.ctx, "sink/file")
	wantErr(t, "unregistered offset", err, store.ErrNotFound)
	wantErr(t, "commit unregistered", f.s.CommitOffset(f.ctx, "sink/file", 1), store.ErrNotFound)

	off, err := f.s.RegisterConsumer(f.ctx, "sink/file", store.StreamJournal, 0)
	f.must(err)
	if off != 0 {
		t.Fatalf("new consumer offset %d", off)
	}
	_, err = f.s.RegisterConsumer(f.ctx, "processor", store.StreamJournal, 10)
	f.must(err)
	_, err = f.s.RegisterConsumer(f.ctx, "late", store.StreamJournal, 11)
	wantErr(t, "start beyond last seq", err, store.ErrInvalid)
	_, err = f.s.RegisterConsumer(f.ctx, "x", store.Stream("bogus"), 0)
	wantErr(t, "unknown stream", err, store.ErrInvalid)

	f.must(f.s.CommitOffset(f.ctx, "sink/file", 5))
	f.must(f.s.CommitOffset(f.ctx, "sink/file", 3)) // a late, smaller commit is ignored
	if off := f.offset("sink/file"); off != 5 {
		t.Fatalf("offset went backwards to %d", off)
	}
	wantErr(t, "commit beyond last seq", f.s.CommitOffset(f.ctx, "sink/file", 11), store.ErrInvalid)
	wantErr(t, "negative commit", f.s.CommitOffset(f.ctx, "sink/file", -1), store.ErrInvalid)

	// Registering again keeps the offset; registering on another stream is refused.
	off, err = f.s.RegisterConsumer(f.ctx, "sink/file", store.StreamJournal, 0)
	f.must(err)
	if off != 5 {
		t.Fatalf("re-register returned %d, want 5", off)
	}
	_, err = f.s.RegisterConsumer(f.ctx, "sink/file", store.StreamAlerts, 0)
	wantErr(t, "re-register on another stream", err, store.ErrConflict)

	f.must(f.s.ResetOffset(f.ctx, "sink/file", 2))
	if off := f.offset("sink/file"); off != 2 {
		t.Fatalf("reset gave %d, want 2", off)
	}

	_, err = f.s.RegisterConsumer(f.ctx, "sink/alerts", store.StreamAlerts, 0)
	f.must(err)
	cs, err := f.s.Consumers(f.ctx)
	f.must(err)
	got := make(map[string]store.Consumer)
	var names []string
	for _, c := range cs {
		got[c.Name] = c
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"processor", "sink/alerts", "sink/file"}) {
		t.Fatalf("consumers %v", names)
	}
	if c := got["sink/file"]; c.Offset != 2 || c.Lag != 8 || c.Stream != store.StreamJournal || !c.RegisteredAt.Equal(epoch) {
		t.Fatalf("sink/file %+v", c)
	}
	if c := got["processor"]; c.Lag != 0 {
		t.Fatalf("processor lag %d", c.Lag)
	}
	if c := got["sink/alerts"]; c.Lag != 0 || c.Stream != store.StreamAlerts {
		t.Fatalf("alerts consumer %+v", c)
	}
	if c := got["sink/file"]; c.Status != "" || c.StatusError != "" || !c.StatusAt.IsZero() {
		t.Fatalf("status before any was set: %+v", c)
	}

	// A reported status is kept apart from the offset, and readers see it with its time.
	wantErr(t, "status of an unregistered consumer", f.s.SetConsumerStatus(f.ctx, "sink/nobody", "retrying", ""), store.ErrNotFound)
	f.h.Clock.Advance(time.Minute)
	f.must(f.s.SetConsumerStatus(f.ctx, "sink/file", "retrying", "dial tcp 127.0.0.1:9092: connection refused"))
	f.must(f.s.CommitOffset(f.ctx, "sink/file", 4))
	status := func() store.Consumer {
		cs, err := f.s.Consumers(f.ctx)
		f.must(err)
		for _, c := range cs {
			if c.Name == "sink/file" {
				return c
			}
		}
		t.Fatal("sink/file is gone")
		return store.Consumer{}
	}
	if c := status(); c.Status != "retrying" || c.StatusError != "dial tcp 127.0.0.1:9092: connection refused" ||
		!c.StatusAt.Equal(epoch.Add(time.Minute)) || c.Offset != 4 {
		t.Fatalf("after a status and a commit: %+v", c)
	}
	// Another error in the same status keeps the time the status began.
	f.h.Clock.Advance(time.Minute)
	f.must(f.s.SetConsumerStatus(f.ctx, "sink/file", "retrying", "dial tcp 127.0.0.1:9092: i/o timeout"))
	if c := status(); c.StatusError != "dial tcp 127.0.0.1:9092: i/o timeout" || !c.StatusAt.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("a new error while retrying: %+v", c)
	}
	f.must(f.s.SetConsumerStatus(f.ctx, "sink/file", "delivering", ""))
	if c := status(); c.Status != "delivering" || c.StatusError != "" || c.Offset != 4 || !c.StatusAt.Equal(epoch.Add(2*time.Minute)) {
		t.Fatalf("status back to delivering: %+v", c)
	}

	f.must(f.s.UnregisterConsumer(f.ctx, "sink/file"))
	wantErr(t, "unregister twice", f.s.UnregisterConsumer(f.ctx, "sink/file"), store.ErrNotFound)
}

// offset returns a consumer's offset, failing the test on error.
func (f *fixture) offset(name string) int64 {
	f.t.Helper()
	off, err := f.s.Offset(f.ctx, name)
	f.must(err)
	return off
}

func (su suite) retention(t *testing.T) {
	t.Run("RespectsOffsets", func(t *testing.T) {
		f := su.open(t)
		f.appendPage(1, events("a", 20, epoch), nil)
		for name, off := range map[string]int64{"fast": 15, "slow": 4} {
			_, err := f.s.RegisterConsumer(f.ctx, name, store.StreamJournal, off)
			f.must(err)
		}
		// Alert consumers count alert seqs and must not hold back the journal.
		_, err := f.s.RegisterConsumer(f.ctx, "alerts", store.StreamAlerts, 0)
		f.must(err)
		r, err := f.s.TrimJournal(f.ctx, 100)
		f.must(err)
		if r.Removed != 4 || r.FirstSeq != 5 || r.Forced || len(r.Overrun) != 0 {
			t.Fatalf("trim with slow consumer at 4: %+v", r)
		}
		if got, err := f.s.ReadJournal(f.ctx, 4, 1, store.ReadFilter{}); err != nil || got[0].Seq != 5 {
			t.Fatalf("slow consumer's next entry gone: %v %v", got, err)
		}
		f.must(f.s.CommitOffset(f.ctx, "slow", 18))
		r, err = f.s.TrimJournal(f.ctx, 10)
		f.must(err)
		if r.Removed != 5 || r.FirstSeq != 10 {
			t.Fatalf("trim before 10: %+v", r)
		}
		f.must(f.s.UnregisterConsumer(f.ctx, "fast"))
		f.must(f.s.UnregisterConsumer(f.ctx, "slow"))
		r, err = f.s.TrimJournal(f.ctx, 1000)
		f.must(err)
		if r.Removed != 11 || r.FirstSeq != 0 {
			t.Fatalf("trim everything: %+v", r)
		}
		// Seqs are never reused after the journal empties.
		if f.lastSeq() != 20 {
			t.Fatalf("last seq after trimming all: %d", f.lastSeq())
		}
		if r := f.appendPage(1, events("b", 1, epoch), nil); r.LastSeq != 21 {
			t.Fatalf("seq after trim: %+v", r)
		}
		// Deduplication only knows retained entries: a trimmed event appended again is new.
		if r := f.appendPage(1, events("a", 1, epoch), nil); r.Inserted != 1 || r.LastSeq != 22 {
			t.Fatalf("trimmed event appended again: %+v", r)
		}
	})
	t.Run("KeepsRecentEntries", func(t *testing.T) {
		f := su.open(t)
		start := f.h.Clock.Now()
		if seq, err := f.s.SeqStoredSince(f.ctx, start); err != nil || seq != 1 {
			t.Fatalf("empty journal: seq %d, %v; want 1", seq, err)
		}
		f.appendPage(1, events("old", 5, epoch), nil) // seqs 1-5
		f.h.Clock.Advance(2 * time.Hour)
		f.appendPage(1, events("new", 5, epoch), nil) // seqs 6-10, stored 2h later
		_, err := f.s.RegisterConsumer(f.ctx, "sink", store.StreamJournal, 10)
		f.must(err)
		for _, c := range []struct {
			since time.Time
			want  int64
		}{{start.Add(-time.Hour), 1}, {start, 1}, {start.Add(time.Hour), 6}, {start.Add(2 * time.Hour), 6}, {start.Add(3 * time.Hour), 11}} {
			if seq, err := f.s.SeqStoredSince(f.ctx, c.since); err != nil || seq != c.want {
				t.Errorf("SeqStoredSince(start%+v) = %d, %v; want %d", c.since.Sub(start), seq, err, c.want)
			}
		}
		before, err := f.s.SeqStoredSince(f.ctx, start.Add(time.Hour))
		f.must(err)
		r, err := f.s.TrimJournal(f.ctx, before)
		f.must(err)
		if r.Removed != 5 || r.FirstSeq != 6 {
			t.Fatalf("trim of what was stored over an hour before: %+v", r)
		}
	})
	t.Run("CapOverrunsSlowConsumer", func(t *testing.T) {
		f := su.open(t, func(h *Harness) { h.MaxJournalEntries = 5 })
		f.appendPage(1, events("a", 20, epoch), nil)
		_, err := f.s.RegisterConsumer(f.ctx, "dead-sink", store.StreamJournal, 3)
		f.must(err)
		_, err = f.s.RegisterConsumer(f.ctx, "live-sink", store.StreamJournal, 20)
		f.must(err)
		r, err := f.s.TrimJournal(f.ctx, 0)
		f.must(err)
		if r.Removed != 15 || r.FirstSeq != 16 || !r.Forced || !slices.Equal(r.Overrun, []string{"dead-sink"}) {
			t.Fatalf("capped trim: %+v", r)
		}
		b, err := f.s.Bounds(f.ctx)
		f.must(err)
		if b.Count != 5 || b.FirstSeq != 16 || b.LastSeq != 20 {
			t.Fatalf("bounds after cap: %+v", b)
		}
		// Under the cap, nothing more goes.
		r, err = f.s.TrimJournal(f.ctx, 0)
		f.must(err)
		if r.Removed != 0 || r.Forced {
			t.Fatalf("second capped trim: %+v", r)
		}
	})
}
