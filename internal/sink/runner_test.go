package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/store"
)

func TestRunnerDeliversAndCommits(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 250)
	fs := &funcSink{}
	startRunner(t, RunnerOptions{Store: st, Config: testConfig("a", &FileConfig{Path: "x"}), Sink: fs})
	waitFor(t, "offset 250", func() bool { return offsetOf(t, st, "sink/a") == 250 })
	recs := fs.records()
	if len(recs) != 250 {
		t.Fatalf("delivered %d records, want 250", len(recs))
	}
	for i, r := range recs {
		if r.ID != testEvent(i).UUID || r.Kind != KindEvent || r.Seq != int64(i+1) {
			t.Fatalf("record %d = %+v", i, r)
		}
	}
}

// TestRunnerReadAheadWhileJournalGrows delivers full batches, which makes the runner read the next
// batch while it writes the current one, while events keep arriving and one write fails: every
// event must still arrive once, in order, in batches that follow each other exactly.
func TestRunnerReadAheadWhileJournalGrows(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 25)
	total, failed := 25, false
	var lastSeq int64
	fs := &funcSink{}
	fs.write = func(b Batch) error {
		if b.AfterSeq != lastSeq {
			t.Errorf("batch after seq %d follows a batch that ended at %d", b.AfterSeq, lastSeq)
		}
		for i, r := range b.Records {
			if r.Seq != b.AfterSeq+int64(i)+1 {
				t.Errorf("batch (%d,%d]: record %d has seq %d", b.AfterSeq, b.LastSeq, i, r.Seq)
			}
		}
		if total < 95 { // collection carries on while the batch is written
			appendEvents(t, st, total, 7)
			total += 7
		}
		if b.AfterSeq == 20 && !failed {
			failed = true
			return Unavailable(errors.New("destination hiccup"))
		}
		lastSeq = b.LastSeq
		return nil
	}
	cfg := testConfig("ahead", &FileConfig{Path: "x"})
	cfg.Batch.MaxRecords = 10
	startRunner(t, RunnerOptions{Store: st, Config: cfg, Sink: fs})
	waitFor(t, "offset 95", func() bool { return offsetOf(t, st, "sink/ahead") == 95 })
	recs := fs.records()
	if len(recs) != 95 {
		t.Fatalf("delivered %d records, want 95", len(recs))
	}
	for i, r := range recs {
		if r.ID != testEvent(i).UUID {
			t.Fatalf("record %d is %s, want %s", i, r.ID, testEvent(i).UUID)
		}
	}
}

// TestRunnerReportsStatus checks that a runner records in the store what `idwatch sinks list`
// shows from another process: retrying with the destination's error, delivering once it recovers,
// stopped after Run ends.
func TestRunnerReportsStatus(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 10)
	down := make(chan bool, 1)
	down <- true
	fs := &funcSink{write: func(Batch) error {
		d := <-down
		down <- d
		if d {
			return fmt.Errorf("%w: dial tcp 127.0.0.1:9: connection refused", ErrNotConnected)
		}
		return nil
	}}
	status := func() store.Consumer {
		cs, err := st.Consumers(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Name == "sink/s" {
				return c
			}
		}
		return store.Consumer{}
	}
	r, err := NewRunner(RunnerOptions{Store: st, Config: testConfig("s", &FileConfig{Path: "x"}), Sink: fs, PollInterval: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	waitFor(t, "retrying status", func() bool {
		c := status()
		// A destination that is down alternates between retrying the batch and reconnecting.
		return (c.Status == "retrying" || c.Status == "connecting") && strings.Contains(c.StatusError, "connection refused")
	})
	<-down
	down <- false
	waitFor(t, "delivered", func() bool { return offsetOf(t, st, "sink/s") == 10 })
	if c := status(); c.Status != "delivering" || c.StatusError != "" {
		t.Fatalf("status after recovery: %+v", c)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c := status(); c.Status != "stopped" {
		t.Fatalf("status after Run: %+v", c)
	}
}

func TestRunnerBatchesBySizeAndTime(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 25)
	clk := clock.NewManual(time.Unix(1e9, 0))
	fs := &funcSink{}
	cfg := testConfig("b", &FileConfig{Path: "x"})
	cfg.Batch = BatchConfig{MaxRecords: 10, MaxWait: time.Minute}
	startRunner(t, RunnerOptions{Store: st, Config: cfg, Sink: fs, Clock: clk, PollInterval: time.Second})
	// Two full batches go at once; the last 5 wait for max_wait.
	waitFor(t, "two full batches", func() bool { return offsetOf(t, st, "sink/b") == 20 && clk.Timers() > 0 })
	if n := len(fs.records()); n != 20 {
		t.Fatalf("before max_wait: %d records delivered, want 20", n)
	}
	for offsetOf(t, st, "sink/b") != 25 {
		waitFor(t, "runner waiting", func() bool { return clk.Timers() > 0 })
		clk.Advance(time.Second)
	}
	if now := clk.Now(); now.Sub(time.Unix(1e9, 0)) < time.Minute {
		t.Fatalf("partial batch flushed after %s, before max_wait", now.Sub(time.Unix(1e9, 0)))
	}
}

func TestRunnerRetriesThenDeadLetters(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 30)
	calls := 0
	fs := &funcSink{write: func(b Batch) error {
		calls++
		for _, r := range b.Records {
			if r.ID == testEvent(15).UUID {
				return Refused(errors.New("destination refuses"))
			}
		}
		return nil
	}}
	cfg := testConfig("dl", &FileConfig{Path: "x"})
	cfg.Batch.MaxRecords = 10
	r := startRunner(t, RunnerOptions{Store: st, Config: cfg, Sink: fs})
	waitFor(t, "offset 30", func() bool { return offsetOf(t, st, "sink/dl") == 30 })
	letters, err := st.ListDeadLetters(context.Background(), "dl", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(letters) != 10 || letters[0].Attempts != fastRetry.MaxAttempts || letters[0].Error != "destination refuses" {
		t.Fatalf("dead letters: %d, first %+v", len(letters), letters[0])
	}
	var rec Record
	if err := json.Unmarshal(letters[5].Payload, &rec); err != nil || rec.ID != testEvent(15).UUID {
		t.Fatalf("payload %s: %v", letters[5].Payload, err)
	}
	if got := len(fs.records()); got != 20 {
		t.Fatalf("delivered %d, want 20", got)
	}
	s := r.Status()
	if s.DeadLettered != 10 || s.Delivered != 20 || s.LastError == "" {
		t.Fatalf("status %+v", s)
	}
}

func TestRunnerPermanentErrorSkipsRetries(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 5)
	calls := 0
	fs := &funcSink{write: func(Batch) error { calls++; return Permanent(errors.New("bad data")) }}
	startRunner(t, RunnerOptions{Store: st, Config: testConfig("p", &FileConfig{Path: "x"}), Sink: fs})
	waitFor(t, "offset 5", func() bool { return offsetOf(t, st, "sink/p") == 5 })
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if calls != 1 {
		t.Fatalf("permanent error written %d times, want 1", calls)
	}
}

func TestRunnerFiltersAndAlerts(t *testing.T) {
	st := openStore(t, t.TempDir())
	ctx := context.Background()
	appendEvents(t, st, 0, 10)
	other := testEvent(100)
	other.EventType = "user.account.lock"
	if _, err := st.AppendPage(ctx, 1, []store.Event{other}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendAlerts(ctx, []store.Alert{{ID: "alert-1", RuleID: "r", Severity: "high", Time: time.Unix(1e9, 0), IntegrationID: 1, Body: json.RawMessage(`{"finding_info":{"uid":"alert-1"}}`)}}); err != nil {
		t.Fatal(err)
	}
	fs := &funcSink{}
	cfg := testConfig("f", &FileConfig{Path: "x"})
	cfg.Carry = []Kind{KindEvent, KindOCSF, KindAlert}
	cfg.Schemas = []string{"auth"}
	cfg.EventTypes = []string{"user.account.lock"}
	ocsf := func(e store.Entry) ([]OCSFRecord, error) {
		return []OCSFRecord{{Schema: "auth", Body: json.RawMessage(`{"class_uid":3002}`)}, {Schema: "generic", Body: json.RawMessage(`{}`)}}, nil
	}
	startRunner(t, RunnerOptions{Store: st, Config: cfg, Sink: fs, OCSF: ocsf})
	waitFor(t, "both offsets", func() bool {
		return offsetOf(t, st, "sink/f") == 11 && offsetOf(t, st, "sink/f/alerts") == 1
	})
	var kinds []Kind
	for _, r := range fs.records() {
		kinds = append(kinds, r.Kind)
		if r.Kind != KindAlert && r.ID != other.UUID {
			t.Fatalf("filtered event delivered: %+v", r)
		}
	}
	if len(kinds) != 3 {
		t.Fatalf("kinds %v, want event, ocsf, alert", kinds)
	}
}

func TestRunnerNeedsNormalizerForOCSF(t *testing.T) {
	st := openStore(t, t.TempDir())
	cfg := testConfig("o", &FileConfig{Path: "x"})
	cfg.Carry = []Kind{KindOCSF}
	if _, err := NewRunner(RunnerOptions{Store: st, Config: cfg, Sink: &funcSink{}}); err == nil {
		t.Fatal("runner carrying ocsf built without a normalizer")
	}
}

// A dead sink must not hold up a healthy one; once it comes back it catches up with nothing lost.
func TestSlowSinkDoesNotBlockOthers(t *testing.T) {
	st := openStore(t, t.TempDir())
	down := make(chan struct{})
	dead := &funcSink{write: func(Batch) error {
		select {
		case <-down:
			return nil
		default:
			return Unavailable(errors.New("receiver stopped"))
		}
	}}
	healthy := &funcSink{}
	cfgDead := testConfig("dead", &FileConfig{Path: "x"}) // an outage uses up no attempts
	startRunner(t, RunnerOptions{Store: st, Config: cfgDead, Sink: dead})
	startRunner(t, RunnerOptions{Store: st, Config: testConfig("ok", &FileConfig{Path: "x"}), Sink: healthy})
	appendEvents(t, st, 0, 500)
	waitFor(t, "healthy sink caught up", func() bool { return offsetOf(t, st, "sink/ok") == 500 })
	if off := offsetOf(t, st, "sink/dead"); off != 0 {
		t.Fatalf("dead sink committed %d", off)
	}
	close(down)
	waitFor(t, "recovered sink caught up", func() bool { return offsetOf(t, st, "sink/dead") == 500 })
	seen := map[string]bool{}
	for _, r := range dead.records() {
		seen[r.ID] = true
	}
	if len(seen) != 500 {
		t.Fatalf("recovered sink holds %d distinct records, want 500", len(seen))
	}
}

func TestBackoff(t *testing.T) {
	c := RetryConfig{InitialBackoff: time.Second, MaxBackoff: 10 * time.Second}
	for _, tc := range []struct {
		attempt  int
		jitter   float64
		min, max time.Duration
	}{
		{1, 0, 500 * time.Millisecond, 500 * time.Millisecond},
		{1, 0.999, 500 * time.Millisecond, time.Second},
		{3, 0, 2 * time.Second, 2 * time.Second},
		{10, 0.999, 5 * time.Second, 10 * time.Second},
		{100, 0, 5 * time.Second, 5 * time.Second},
	} {
		if d := Backoff(c, tc.attempt, tc.jitter); d < tc.min || d > tc.max {
			t.Errorf("Backoff(attempt %d, jitter %v) = %s, want [%s, %s]", tc.attempt, tc.jitter, d, tc.min, tc.max)
		}
	}
}

func TestReplayDeadLetters(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 5)
	failing := &funcSink{write: func(Batch) error { return Refused(errors.New("down")) }}
	cfg := testConfig("r", &FileConfig{Path: "x"})
	startRunner(t, RunnerOptions{Store: st, Config: cfg, Sink: failing})
	waitFor(t, "offset 5", func() bool { return offsetOf(t, st, "sink/r") == 5 })

	res, err := ReplayDeadLetters(ctx, st, cfg, &funcSink{write: func(Batch) error { return Refused(errors.New("still down")) }}, 100, nil)
	if err != nil || res.Failed != 5 || res.Class != "refused" {
		t.Fatalf("failed replay: %+v %v", res, err)
	}
	letters, _ := st.ListDeadLetters(ctx, "r", 100)
	if len(letters) != 5 || letters[0].Attempts != fastRetry.MaxAttempts+1 || letters[0].Error != "still down" {
		t.Fatalf("after failed replay: %+v", letters)
	}
	ok := &funcSink{}
	res, err = ReplayDeadLetters(ctx, st, cfg, ok, 100, nil)
	if err != nil || res.Delivered != 5 {
		t.Fatalf("replay: %+v %v", res, err)
	}
	checkIDs := func(recs []Record) []string {
		var ids []string
		for _, r := range recs {
			ids = append(ids, r.ID)
		}
		return ids
	}
	checkExactlyOnce(t, checkIDs(ok.records()), 5)
	if letters, _ := st.ListDeadLetters(ctx, "r", 100); len(letters) != 0 {
		t.Fatalf("letters left after replay: %d", len(letters))
	}
}
