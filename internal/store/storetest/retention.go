package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

func (su suite) alertRetention(t *testing.T) {
	f := su.open(t)
	add := func(prefix string, n int) {
		t.Helper()
		var as []store.Alert
		for i := range n {
			as = append(as, sampleAlert(fmt.Sprintf("%s-%d", prefix, i), f.h.Clock.Now()))
		}
		_, err := f.s.AppendAlerts(f.ctx, as)
		f.must(err)
	}
	trim := func(before time.Time) store.AlertTrimResult {
		t.Helper()
		r, err := f.s.TrimAlerts(f.ctx, before)
		f.must(err)
		return r
	}
	start := f.h.Clock.Now()
	add("old", 5) // seqs 1-5
	f.h.Clock.Advance(48 * time.Hour)
	add("new", 3) // seqs 6-8
	// Without consumers, everything stored before the bound goes, nothing after it.
	if r := trim(start); r.Removed != 0 || r.Waiting != 0 {
		t.Fatalf("trim before the oldest alert: %+v", r)
	}
	_, err := f.s.RegisterConsumer(f.ctx, "sink/alerts", store.StreamAlerts, 2)
	f.must(err)
	// A journal consumer does not hold alerts back; the alert consumer does.
	_, err = f.s.RegisterConsumer(f.ctx, "processor", store.StreamJournal, 0)
	f.must(err)
	if r := trim(start.Add(24 * time.Hour)); r.Removed != 2 || r.Waiting != 3 {
		t.Fatalf("trim with an alert sink at 2: %+v; want 2 removed, 3 waiting", r)
	}
	got, err := f.s.ReadAlerts(f.ctx, 2, 10)
	f.must(err)
	if len(got) != 6 || got[0].Seq != 3 {
		t.Fatalf("the sink's next alerts were trimmed: %+v", got)
	}
	f.must(f.s.CommitOffset(f.ctx, "sink/alerts", 8))
	if r := trim(start.Add(24 * time.Hour)); r.Removed != 3 || r.Waiting != 0 {
		t.Fatalf("trim once the sink committed: %+v", r)
	}
	got, err = f.s.ReadAlerts(f.ctx, 0, 10)
	f.must(err)
	if len(got) != 3 || got[0].ID != "new-0" {
		t.Fatalf("alerts younger than the bound: %+v", got)
	}
	// Seqs are never reused, and a trimmed alert raised again is stored as new.
	if last, err := f.s.LastAlertSeq(f.ctx); err != nil || last != 8 {
		t.Fatalf("last alert seq after trim: %d %v", last, err)
	}
	if n, err := f.s.AppendAlerts(f.ctx, []store.Alert{sampleAlert("old-0", start)}); err != nil || n != 1 {
		t.Fatalf("trimmed alert raised again: %d %v", n, err)
	}
	if last, err := f.s.LastAlertSeq(f.ctx); err != nil || last != 9 {
		t.Fatalf("last alert seq: %d %v", last, err)
	}
	if r := trim(f.h.Clock.Now().Add(time.Hour)); r.Removed != 3 || r.Waiting != 1 {
		t.Fatalf("trim of all with seq 9 uncommitted: %+v", r)
	}
}

func (su suite) deadLetterRetention(t *testing.T) {
	f := su.open(t)
	add := func(sink, rec string) {
		t.Helper()
		f.must(f.s.AddDeadLetter(f.ctx, store.DeadLetter{Sink: sink, RecordID: rec, Payload: []byte(`{"uuid":"` + rec + `"}`), Error: "400 bad record"}))
	}
	start := f.h.Clock.Now()
	add("hec", "e1")
	add("hec", "e2")
	add("kafka", "e3")
	f.h.Clock.Advance(10 * 24 * time.Hour)
	add("hec", "e4")
	add("kafka", "e3") // failed again: its clock restarts
	// A replay holding e2 keeps it past its time.
	taken, err := f.s.TakeDeadLetters(f.ctx, "hec", 2, time.Hour)
	f.must(err)
	if len(taken) != 2 || taken[1].RecordID != "e2" {
		t.Fatalf("taken %+v", taken)
	}
	f.must(f.s.AddDeadLetter(f.ctx, store.DeadLetter{Sink: "hec", RecordID: "e1", Payload: []byte(`{}`), Error: "400", FirstFailure: start, LastFailure: start}))
	n, err := f.s.TrimDeadLetters(f.ctx, start.Add(24*time.Hour))
	f.must(err)
	if n != 1 {
		t.Fatalf("trimmed %d letters, want 1 (e1; e2 is leased, e3 failed again, e4 is recent)", n)
	}
	left, err := f.s.ListDeadLetters(f.ctx, "", 10)
	f.must(err)
	var ids []string
	for _, d := range left {
		ids = append(ids, d.Sink+"/"+d.RecordID)
	}
	if fmt.Sprint(ids) != "[hec/e2 kafka/e3 hec/e4]" {
		t.Fatalf("letters after trim: %v", ids)
	}
	f.h.Clock.Advance(2 * time.Hour) // the lease on e2 expires
	n, err = f.s.TrimDeadLetters(f.ctx, start.Add(24*time.Hour))
	f.must(err)
	if n != 1 {
		t.Fatalf("trimmed %d after the lease expired, want 1 (e2)", n)
	}
	if n, err = f.s.TrimDeadLetters(f.ctx, f.h.Clock.Now()); err != nil || n != 2 {
		t.Fatalf("trim of all: %d %v", n, err)
	}
}
