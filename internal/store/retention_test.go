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
