package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// sampleAlert returns a valid alert with id at time tm.
func sampleAlert(id string, tm time.Time) store.Alert {
	return store.Alert{ID: id, RuleID: "okta-mfa-push-fatigue", Severity: "high", Time: tm, IntegrationID: 1,
		GroupKey: "user:00u1", Body: []byte(`{"class_uid":2004,"finding_info":{"uid":"` + id + `"}}`)}
}

func (su suite) alerts(t *testing.T) {
	f := su.open(t)
	n, err := f.s.AppendAlerts(f.ctx, []store.Alert{sampleAlert("a1", epoch), sampleAlert("a2", epoch.Add(time.Minute))})
	f.must(err)
	if n != 2 {
		t.Fatalf("inserted %d", n)
	}
	// A replay raising the same alert again is a no-op; a new one gets the next seq.
	n, err = f.s.AppendAlerts(f.ctx, []store.Alert{sampleAlert("a2", epoch.Add(time.Minute)), sampleAlert("a3", epoch.Add(2*time.Minute))})
	f.must(err)
	if n != 1 {
		t.Fatalf("replay inserted %d, want 1", n)
	}
	last, err := f.s.LastAlertSeq(f.ctx)
	f.must(err)
	if last != 3 {
		t.Fatalf("last alert seq %d", last)
	}
	got, err := f.s.ReadAlerts(f.ctx, 1, 10)
	f.must(err)
	if len(got) != 2 || got[0].Seq != 2 || got[0].ID != "a2" || got[1].ID != "a3" {
		t.Fatalf("read after 1: %+v", got)
	}
	a := got[0]
	w := sampleAlert("a2", epoch.Add(time.Minute))
	if a.RuleID != w.RuleID || a.Severity != w.Severity || !a.Time.Equal(w.Time) || a.IntegrationID != 1 ||
		a.GroupKey != w.GroupKey || !bytes.Equal(a.Body, w.Body) || !a.StoredAt.Equal(epoch) {
		t.Fatalf("alert round trip %+v", a)
	}
	since, err := f.s.ListAlerts(f.ctx, epoch.Add(time.Minute), 10)
	f.must(err)
	if len(since) != 2 || since[0].ID != "a3" || since[1].ID != "a2" {
		t.Fatalf("since: %+v", since)
	}
	_, err = f.s.AppendAlerts(f.ctx, []store.Alert{{ID: "x"}})
	wantErr(t, "alert without rule", err, store.ErrInvalid)
	_, err = f.s.ReadAlerts(f.ctx, 0, 0)
	wantErr(t, "limit 0", err, store.ErrInvalid)
	// An alert consumer's lag counts alerts, not journal entries.
	_, err = f.s.RegisterConsumer(f.ctx, "sink/alerts", store.StreamAlerts, 1)
	f.must(err)
	wantErr(t, "commit beyond last alert", f.s.CommitOffset(f.ctx, "sink/alerts", 4), store.ErrInvalid)
	f.must(f.s.CommitOffset(f.ctx, "sink/alerts", 2))
	cs, err := f.s.Consumers(f.ctx)
	f.must(err)
	if len(cs) != 1 || cs[0].Lag != 1 {
		t.Fatalf("alert consumer %+v", cs)
	}
}

func (su suite) deadLetters(t *testing.T) {
	f := su.open(t)
	add := func(sink, rec, errText string) {
		t.Helper()
		f.must(f.s.AddDeadLetter(f.ctx, store.DeadLetter{Sink: sink, RecordID: rec, Payload: []byte(`{"uuid":"` + rec + `"}`), Error: errText, Attempts: 5}))
	}
	add("kafka", "e1", "broker down")
	f.h.Clock.Advance(time.Minute)
	add("kafka", "e2", "broker down")
	add("hec", "e1", "403 invalid token")
	all, err := f.s.ListDeadLetters(f.ctx, "", 10)
	f.must(err)
	if len(all) != 3 {
		t.Fatalf("all letters: %+v", all)
	}
	kafka, err := f.s.ListDeadLetters(f.ctx, "kafka", 10)
	f.must(err)
	if len(kafka) != 2 || kafka[0].RecordID != "e1" || kafka[0].Attempts != 5 || !kafka[0].FirstFailure.Equal(epoch) {
		t.Fatalf("kafka letters: %+v", kafka)
	}

	// Two replayers: the second sees nothing while the first holds the lease.
	taken, err := f.s.TakeDeadLetters(f.ctx, "kafka", 10, time.Minute)
	f.must(err)
	if len(taken) != 2 {
		t.Fatalf("took %d", len(taken))
	}
	again, err := f.s.TakeDeadLetters(f.ctx, "kafka", 10, time.Minute)
	f.must(err)
	if len(again) != 0 {
		t.Fatalf("leased letters taken twice: %+v", again)
	}
	// e1 is delivered; e2 fails again and comes back with more attempts.
	f.must(f.s.DeleteDeadLetters(f.ctx, taken[0].ID))
	f.h.Clock.Advance(time.Second)
	add("kafka", "e2", "still down")
	back, err := f.s.TakeDeadLetters(f.ctx, "kafka", 10, time.Minute)
	f.must(err)
	if len(back) != 1 || back[0].RecordID != "e2" || back[0].Attempts != 10 || back[0].Error != "still down" ||
		!back[0].FirstFailure.Equal(epoch.Add(time.Minute)) || !back[0].LastFailure.Equal(epoch.Add(time.Minute+time.Second)) {
		t.Fatalf("re-added letter: %+v", back)
	}
	// A replayer that crashed loses its lease when it expires.
	f.h.Clock.Advance(2 * time.Minute)
	expired, err := f.s.TakeDeadLetters(f.ctx, "kafka", 10, time.Minute)
	f.must(err)
	if len(expired) != 1 {
		t.Fatalf("letter with expired lease not offered again: %+v", expired)
	}
	wantErr(t, "letter without sink", f.s.AddDeadLetter(f.ctx, store.DeadLetter{RecordID: "x", Payload: []byte("{}")}), store.ErrInvalid)
	_, err = f.s.TakeDeadLetters(f.ctx, "kafka", 10, 0)
	wantErr(t, "take without lease", err, store.ErrInvalid)
	f.must(f.s.DeleteDeadLetters(f.ctx))
}
