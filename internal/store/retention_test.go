package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// TestRetentionRun trims on its schedule: nothing while entries are younger than Keep, then the
// old entries every consumer has committed, never one a consumer still needs.
func TestRetentionRun(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	st, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(t.TempDir(), "idwatch.db"), Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	appendEvents := func(prefix string, n int) {
		var evs []store.Event
		for i := range n {
			uuid := fmt.Sprintf("%s-%d", prefix, i)
			evs = append(evs, store.Event{UUID: uuid, Published: clk.Now(), EventType: "user.session.start", Raw: []byte(`{"uuid":"` + uuid + `"}`)})
		}
		if _, err := st.AppendPage(t.Context(), 1, evs, nil); err != nil {
			t.Fatal(err)
		}
	}
	appendEvents("day1", 10) // seqs 1-10
	if _, err := st.RegisterConsumer(t.Context(), "sink/slow", store.StreamJournal, 4); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- store.Retention{Journal: st, Keep: 24 * time.Hour, Interval: 10 * time.Minute, Clock: clk}.Run(ctx)
	}()
	firstSeq := func() int64 {
		b, err := st.Bounds(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return b.FirstSeq
	}
	// tick waits until the runner sleeps (its trim done), then moves the clock past its interval.
	tick := func(d time.Duration) {
		t.Helper()
		wctx, wcancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer wcancel()
		if err := clk.WaitForTimers(wctx, 1); err != nil {
			t.Fatal("the runner never went to sleep")
		}
		clk.Advance(d)
	}
	tick(10 * time.Minute)
	if got := firstSeq(); got != 1 {
		t.Fatalf("entries younger than Keep were trimmed: first seq %d", got)
	}
	clk.Advance(24 * time.Hour)
	appendEvents("day2", 5) // seqs 11-15
	tick(10 * time.Minute)
	tick(10 * time.Minute) // the trim after the day has passed has run
	if got := firstSeq(); got != 5 {
		t.Fatalf("after a day, first seq %d; want 5 (the slow sink has committed only 4)", got)
	}
	if err := st.CommitOffset(t.Context(), "sink/slow", 15); err != nil {
		t.Fatal(err)
	}
	tick(10 * time.Minute)
	tick(10 * time.Minute)
	if got := firstSeq(); got != 11 {
		t.Fatalf("once committed, first seq %d; want 11 (day 2 is younger than Keep)", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v when stopped", err)
	}
}

func TestRetentionValidate(t *testing.T) {
	if err := (store.Retention{Keep: 0, Interval: time.Minute}).Validate(); err == nil {
		t.Error("zero keep accepted")
	}
	if err := (store.Retention{Keep: time.Hour, Interval: -time.Second}).Validate(); err == nil {
		t.Error("negative interval accepted")
	}
	if err := (store.Retention{Keep: time.Hour}).Run(t.Context()); err == nil {
		t.Error("Run without an interval started")
	}
}

// TestRetentionTrimsAlertsAndDeadLetters checks that the scheduled trim applies each table's own
// retention: alerts after AlertsKeep once delivered, dead letters DeadLettersKeep after their
// last failure.
func TestRetentionTrimsAlertsAndDeadLetters(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	st, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(t.TempDir(), "idwatch.db"), Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	raise := func(id string) {
		if _, err := st.AppendAlerts(ctx, []store.Alert{{ID: id, RuleID: "r", Severity: "high", Time: clk.Now(), IntegrationID: 1, Body: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	letter := func(id string) {
		if err := st.AddDeadLetter(ctx, store.DeadLetter{Sink: "hec", RecordID: id, Payload: []byte(`{}`), Error: "400"}); err != nil {
			t.Fatal(err)
		}
	}
	raise("a1")
	letter("d1")
	clk.Advance(20 * 24 * time.Hour)
	raise("a2")
	letter("d2")
	r := store.Retention{Journal: st, Keep: time.Hour, Alerts: st, AlertsKeep: 10 * 24 * time.Hour,
		DeadLetters: st, DeadLettersKeep: 15 * 24 * time.Hour, Interval: time.Minute, Clock: clk}
	res, err := r.Trim(ctx)
	if err != nil || res.Alerts.Removed != 1 || res.DeadLetters != 1 {
		t.Fatalf("first trim: %+v %v; want a1 and d1 gone", res, err)
	}
	alerts, err := st.ListAlerts(ctx, time.Time{}, 10)
	if err != nil || len(alerts) != 1 || alerts[0].ID != "a2" {
		t.Fatalf("alerts after trim: %+v %v", alerts, err)
	}
	letters, err := st.ListDeadLetters(ctx, "", 10)
	if err != nil || len(letters) != 1 || letters[0].RecordID != "d2" {
		t.Fatalf("dead letters after trim: %+v %v", letters, err)
	}
	if err := (store.Retention{Journal: st, Keep: time.Hour, Alerts: st, Interval: time.Minute}).Validate(); err == nil {
		t.Error("alerts without a keep accepted")
	}
}
