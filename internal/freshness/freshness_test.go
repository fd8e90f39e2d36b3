package freshness

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/idwatch/idwatch/internal/store"
)

func TestObserve(t *testing.T) {
	reg := prometheus.NewRegistry()
	pub := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	m, err := New(reg, func() time.Time { return pub.Add(3 * time.Second) })
	if err != nil {
		t.Fatal(err)
	}
	pushed := store.Entry{IntegrationID: 7, Published: pub, StoredAt: pub.Add(400 * time.Millisecond), Source: store.SourcePush}
	polled := store.Entry{IntegrationID: 7, Published: pub, StoredAt: pub.Add(20 * time.Second), Source: ""}
	undated := store.Entry{IntegrationID: 7, StoredAt: pub}
	m.Observe([]store.Entry{pushed, polled, undated}, []*store.Entry{&pushed})
	got, err := testutil.CollectAndLint(m.alert)
	if err != nil || len(got) != 0 {
		t.Fatalf("lint: %v %v", got, err)
	}
	if n := testutil.CollectAndCount(m.journal); n != 2 {
		t.Fatalf("journal delay series = %d, want push and poll", n)
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			h := mt.GetHistogram()
			var src string
			for _, l := range mt.GetLabel() {
				if l.GetName() == "source" {
					src = l.GetValue()
				}
			}
			switch {
			case mf.GetName() == "idwatch_event_journal_delay_seconds" && src == "push":
				if h.GetSampleCount() != 1 || h.GetSampleSum() != 0.4 {
					t.Fatalf("push journal delay: %v", h)
				}
			case mf.GetName() == "idwatch_event_journal_delay_seconds" && src == "poll":
				if h.GetSampleCount() != 1 || h.GetSampleSum() != 20 {
					t.Fatalf("poll journal delay: %v", h)
				}
			case mf.GetName() == "idwatch_event_alert_delay_seconds":
				if src != "push" || h.GetSampleCount() != 1 || h.GetSampleSum() != 3 {
					t.Fatalf("alert delay %s: %v", src, h)
				}
			}
		}
	}
	// A second New on the same registry shares the registered histograms.
	again, err := New(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.alert != m.alert || again.journal != m.journal {
		t.Fatal("second New did not share the registered histograms")
	}
}
