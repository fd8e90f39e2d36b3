package hooks

import (
	"context"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// timedStore records how long each journal append of the receiver takes.
type timedStore struct {
	Store
	mu sync.Mutex
	d  []time.Duration
}

func (s *timedStore) AppendPage(ctx context.Context, id int64, evs []store.Event, c *store.Cursor) (store.AppendResult, error) {
	start := time.Now()
	res, err := s.Store.AppendPage(ctx, id, evs, c)
	s.mu.Lock()
	s.d = append(s.d, time.Since(start))
	s.mu.Unlock()
	return res, err
}

// percentile returns the p-th percentile (0..100) of d.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}

// TestLoad: oktasim delivers 5,000 events/s in batches over loopback for IDWATCH_HOOK_LOAD
// seconds (default 2; 60 for the full run); every event must reach the journal once, pushed.
// It reports the receiver's append latency.
func TestLoad(t *testing.T) {
	secs := 2
	if v := os.Getenv("IDWATCH_HOOK_LOAD"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("IDWATCH_HOOK_LOAD=%q: want a number of seconds", v)
		}
		secs = n
	}
	const rate, tick = 5000, 10 * time.Millisecond
	ts := &timedStore{}
	f := newFixture(t, fixtureOptions{deliverers: 2, wrap: func(s Store) Store { ts.Store = s; return ts }})
	f.subscribe("user.session.start")
	probes := f.countSource(store.SourcePush)
	total := 0
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	start := time.Now()
	end := start.Add(time.Duration(secs) * time.Second)
	for now := start; now.Before(end); now = <-ticker.C {
		// Catch up on ticks missed, so the offered rate stays 5,000/s.
		due := int(now.Sub(start).Seconds()*rate) + rate*int(tick)/int(time.Second)
		total += len(f.add("user.session.start", due-total))
	}
	deadline := time.Now().Add(60 * time.Second)
	stored := func() int {
		n, err := f.st.CountJournal(f.ctx, store.ReadFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	for stored() < total+probes {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events reached the journal; receiver outcomes %v; sender warnings %v", stored()-probes, total, outcomes(t, f), f.simWarnings.counts())
		}
		waitFor(100 * time.Millisecond)
	}
	es := f.entries()
	if uuids := uuidsOf(es); len(slices.Compact(uuids)) != len(es) {
		t.Fatal("duplicates in the journal")
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t.Logf("receiver outcomes %v", outcomes(t, f))
	t.Logf("%d events offered in %s over %d deliveries; append latency p50 %s, p99 %s, max %s", total, time.Since(start).Round(time.Millisecond), len(ts.d),
		percentile(ts.d, 50), percentile(ts.d, 99), percentile(ts.d, 100))
}

// outcomes sums the receiver's requests by outcome.
func outcomes(t testing.TB, f *fixture) map[string]float64 {
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "idwatch_hook_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}
