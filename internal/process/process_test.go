package process

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// sharedCorpus is generated once: a few hours of two orgs plus every storyline.
var sharedCorpus = sync.OnceValue(func() *corpus { return buildCorpus(&testing.B{}, 11) })

// sharedReference is the alert ids an uninterrupted run over sharedCorpus raises.
var sharedReference = sync.OnceValue(func() []string {
	rs, _, err := LoadRules("", false)
	if err != nil {
		panic(err)
	}
	return referenceAlerts(&testing.B{}, sharedCorpus(), rs)
})

func TestProcessorRecordsAndAlerts(t *testing.T) {
	c := sharedCorpus()
	s := openStore(t, t.TempDir(), nil)
	c.appendPages(t, s, 0, len(c.pages))
	p := newProcessor(t, s, 200)
	if n := drain(t, p); n != c.total {
		t.Fatalf("processed %d entries, want %d", n, c.total)
	}
	if st := p.Stats(); st.Undecodable != 0 || st.Unevaluated != 0 || st.Offset != int64(c.total) {
		t.Fatalf("stats %+v", st)
	}
	// Every entry normalized to at least one record and at most the two an overlap type gives.
	if st := p.Stats(); st.Records < int64(c.total) || st.Records > 2*int64(c.total) {
		t.Fatalf("%d records for %d entries", st.Records, c.total)
	}
	// The stored alerts are exactly what fresh engines raise over the same events.
	alerts := allAlerts(t, s)
	got := alertIDs(t, alerts)
	want := sharedReference()
	if !slices.Equal(got, want) || len(got) < len(c.stories) {
		t.Fatalf("processor stored %d alerts, reference engines raised %d", len(got), len(want))
	}
	t.Logf("%d entries, %d records, %d alerts", c.total, p.Stats().Records, len(got))
	// Every storyline raises at least one alert whose evidence includes its events.
	for _, st := range c.stories {
		uuids := map[string]bool{}
		for _, ev := range st.Events {
			uuids[ev.UUID] = true
		}
		found := false
		for _, a := range alerts {
			var f struct {
				FindingInfo struct {
					Related []struct{ UID string } `json:"related_events"`
				} `json:"finding_info"`
			}
			if err := json.Unmarshal(a.Body, &f); err != nil {
				t.Fatal(err)
			}
			for _, r := range f.FindingInfo.Related {
				found = found || (uuids[r.UID] && a.IntegrationID == 1)
			}
		}
		if !found {
			t.Errorf("storyline %s (labelled %v) raised no alert", st.Name, st.Detections)
		}
	}
	// Processing again finds nothing new.
	if n := drain(t, p); n != 0 {
		t.Fatalf("second pass processed %d", n)
	}
}

// TestRestartMidCorrelation stops and restarts the processor (a fresh Processor on the same
// store) after every few pages, cutting through the storylines' correlations, and compares with
// an uninterrupted run.
func TestRestartMidCorrelation(t *testing.T) {
	c := sharedCorpus()
	want := sharedReference()
	dir := t.TempDir()
	restarts := 0
	for from := 0; from < len(c.pages); from += 3 {
		s := openStore(t, dir, nil)
		c.appendPages(t, s, from, min(from+3, len(c.pages)))
		p := newProcessor(t, s, 37)
		drain(t, p)
		if from > 0 && p.Stats().Replayed == 0 {
			t.Fatalf("restart at page %d replayed nothing", from)
		}
		restarts++
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if restarts < 5 {
		t.Fatalf("only %d restarts", restarts)
	}
	s := openStore(t, dir, nil)
	got := alertIDs(t, allAlerts(t, s))
	if !slices.Equal(got, want) {
		t.Fatalf("after %d restarts: %d alerts, uninterrupted: %d\nmissing: %v\nextra: %v", restarts, len(got), len(want),
			diff(want, got), diff(got, want))
	}
}

// diff lists the elements of a not in b (both sorted).
func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			out = append(out, x)
		}
	}
	return out
}

// TestCommitAtomic lets three batches commit and injects a failure in the fourth, between its
// rows and its offset: nothing of the fourth is visible, and the retry (which rebuilds the
// engines' state from the store first) stores everything exactly once.
func TestCommitAtomic(t *testing.T) {
	c := sharedCorpus()
	f := &faults{}
	s := openStore(t, t.TempDir(), f)
	c.appendPages(t, s, 0, len(c.pages))
	type snapshot struct {
		offset int64
		alerts int
		state  string
	}
	look := func() snapshot {
		t.Helper()
		var sn snapshot
		var err error
		if sn.offset, err = s.Offset(t.Context(), DefaultConsumer); err != nil {
			t.Fatal(err)
		}
		state, err := s.ConsumerState(t.Context(), DefaultConsumer)
		if err != nil {
			t.Fatal(err)
		}
		sn.alerts, sn.state = len(allAlerts(t, s)), fmt.Sprint(state)
		return sn
	}
	var before snapshot
	p, err := New(t.Context(), Config{Store: s, BatchSize: 100, Clock: fixedClock,
		Committed: func(off int64) {
			if off == 300 {
				before = look()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	point := store.FaultBeforeProcessedOffset
	f.skip.Store(3)
	f.armed.Store(&point)
	n, err := p.ProcessAvailable(t.Context())
	if err == nil || !strings.Contains(err.Error(), "injected fault") || n != 300 {
		t.Fatalf("faulted fourth commit: n=%d err=%v", n, err)
	}
	if after := look(); after != before || before.offset != 300 || before.state == "[]" {
		t.Fatalf("the failed commit changed the store: before %+v, after %+v", before, after)
	}
	f.armed.Store(nil)
	if n := drain(t, p); n != c.total-300 {
		t.Fatalf("retry processed %d, want %d", n, c.total-300)
	}
	if p.Stats().Replayed == 0 {
		t.Fatal("the retry did not rebuild state by replay")
	}
	if got, want := alertIDs(t, allAlerts(t, s)), sharedReference(); !slices.Equal(got, want) {
		t.Fatalf("after a failed commit and retry: %d alerts, want %d\nmissing: %v\nextra: %v", len(got), len(want),
			diff(want, got), diff(got, want))
	}
}

// TestCollectionNeverWaits runs the processor while pages are appended: every append succeeds
// while the processor works (it only reads and commits short transactions), and the processor
// catches up with the journal.
func TestCollectionNeverWaits(t *testing.T) {
	c := sharedCorpus()
	s := openStore(t, t.TempDir(), nil)
	offsets := make(chan int64, 1024)
	p, err := New(t.Context(), Config{Store: s, BatchSize: 100, PollInterval: time.Millisecond, Clock: fixedClock,
		Committed: func(off int64) {
			select {
			case offsets <- off:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	pages := min(len(c.pages), 60)
	for i := range pages {
		c.appendPages(t, s, i, i+1)
	}
	last, err := s.LastSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for off := int64(0); off < last; {
		select {
		case off = <-offsets:
		case <-deadline:
			t.Fatalf("processor stuck at %d of %d", off, last)
		}
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run returned %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{}, {Store: nil, BatchSize: -1}, {BatchSize: 20_000}, {Store: openStore(t, t.TempDir(), nil), LateSettle: -time.Second}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
