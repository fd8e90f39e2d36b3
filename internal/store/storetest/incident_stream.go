package storetest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// streamActivities reads the whole incident stream as "incident:activity" in seq order.
func streamActivities(f *fixture, t *testing.T) ([]string, []store.IncidentRecord) {
	t.Helper()
	recs, err := f.s.ReadIncidentStream(f.ctx, 0, 100)
	f.must(err)
	var out []string
	for i, r := range recs {
		if r.Seq != int64(i+1) {
			t.Fatalf("record %d has seq %d", i, r.Seq)
		}
		out = append(out, r.IncidentID+":"+r.Activity)
	}
	return out, recs
}

func (su suite) incidentStream(t *testing.T) {
	f := su.open(t)
	f.must(f.s.SaveIncidents(f.ctx, "processor", []store.Incident{
		sampleIncident("inc-a", "user:alice@example.com", 30, "a1"),
		sampleIncident("inc-b", "user:bob@example.com", 20, "b1"),
	}, nil))
	// The same grouping again writes nothing; a change writes an update.
	f.must(f.s.SaveIncidents(f.ctx, "processor", []store.Incident{sampleIncident("inc-a", "user:alice@example.com", 30, "a1")}, nil))
	f.must(f.s.SaveIncidents(f.ctx, "processor", []store.Incident{sampleIncident("inc-a", "user:alice@example.com", 40, "a1", "a2")}, nil))
	who := "ann"
	_, err := f.s.UpdateIncident(f.ctx, "inc-a", store.IncidentUpdate{By: "ann", Assignee: &who})
	f.must(err)
	_, err = f.s.UpdateIncident(f.ctx, "inc-a", store.IncidentUpdate{By: "ann", Assignee: &who}) // no change
	f.must(err)
	_, err = f.s.UpdateIncident(f.ctx, "inc-b", store.IncidentUpdate{By: "ann", Status: store.IncidentFalsePositive})
	f.must(err)
	// inc-a absorbs inc-b: inc-b's last record says where it went.
	f.must(f.s.SaveIncidents(f.ctx, "processor", []store.Incident{sampleIncident("inc-a", "user:alice@example.com", 60, "a1", "a2", "b1")},
		map[string][]string{"inc-a": {"inc-b"}}))
	got, recs := streamActivities(f, t)
	want := []string{"inc-a:create", "inc-b:create", "inc-a:update", "inc-a:update", "inc-b:close", "inc-b:close", "inc-a:update"}
	if len(got) != len(want) {
		t.Fatalf("stream %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("stream %v, want %v", got, want)
		}
	}
	var snap struct {
		ID, Status, Assignee, MergedInto, LastChange string
		Risk                                         int
		Alerts                                       []string
	}
	f.must(json.Unmarshal(recs[3].Snapshot, &snap))
	if snap.ID != "inc-a" || snap.Assignee != "ann" || snap.Risk != 40 || len(snap.Alerts) != 2 || snap.LastChange == "" {
		t.Fatalf("assignee snapshot %+v", snap)
	}
	f.must(json.Unmarshal(recs[5].Snapshot, &snap))
	if snap.ID != "inc-b" || snap.MergedInto != "inc-a" {
		t.Fatalf("merged-away snapshot %+v", snap)
	}
	last, err := f.s.LastIncidentSeq(f.ctx)
	f.must(err)
	if last != int64(len(want)) {
		t.Fatalf("last incident seq %d, want %d", last, len(want))
	}
	if page, err := f.s.ReadIncidentStream(f.ctx, 5, 1); err != nil || len(page) != 1 || page[0].Seq != 6 {
		t.Fatalf("page after 5: %+v %v", page, err)
	}

	// Retention: a closed incident goes once closed long enough; the open one stays, and stream
	// records wait for the consumers of the stream.
	_, err = f.s.RegisterConsumer(f.ctx, "sink/x/incidents", store.StreamIncidents, 0)
	f.must(err)
	_, err = f.s.UpdateIncident(f.ctx, "inc-a", store.IncidentUpdate{By: "ann", Status: store.IncidentResolved})
	f.must(err)
	f.h.Clock.Advance(48 * time.Hour)
	n, err := f.s.TrimIncidents(f.ctx, f.h.Clock.Now().Add(-time.Hour))
	f.must(err)
	if n != 1 {
		t.Fatalf("trimmed %d incidents, want 1", n)
	}
	if _, err := f.s.GetIncident(f.ctx, "inc-a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("trimmed incident still there: %v", err)
	}
	if recs, _ := f.s.ReadIncidentStream(f.ctx, 0, 100); len(recs) != len(want)+1 {
		t.Fatalf("stream records trimmed before the consumer read them: %d left", len(recs))
	}
	f.must(f.s.CommitOffset(f.ctx, "sink/x/incidents", int64(len(want))))
	_, err = f.s.TrimIncidents(f.ctx, f.h.Clock.Now().Add(-time.Hour))
	f.must(err)
	if recs, _ := f.s.ReadIncidentStream(f.ctx, 0, 100); len(recs) != 1 || recs[0].Seq != int64(len(want)+1) {
		t.Fatalf("after the consumer read them: %+v", recs)
	}
	if last, _ := f.s.LastIncidentSeq(f.ctx); last != int64(len(want)+1) {
		t.Fatalf("last seq moved back to %d", last)
	}
}

func (su suite) suppressions(t *testing.T) {
	f := su.open(t)
	f.must(f.s.SaveIncidents(f.ctx, "processor", []store.Incident{sampleIncident("inc-a", "user:alice@example.com", 30, "a1")}, nil))
	for _, bad := range []store.Suppression{
		{IncidentID: "inc-a", Entity: "user:alice@example.com", Reason: "r", By: "ann"},
		{IncidentID: "inc-a", RuleID: "r1", Entity: "user:alice@example.com", By: "ann"},
		{IncidentID: "inc-a", RuleID: "r1", Entity: "user:alice@example.com", Reason: "r", By: "ann", ExpiresAt: epoch.Add(-time.Hour)},
	} {
		if _, err := f.s.AddSuppression(f.ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AddSuppression(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := f.s.AddSuppression(f.ctx, store.Suppression{IncidentID: "nope", RuleID: "r1", Entity: "user:x", Reason: "r", By: "ann"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("suppression from an unknown incident: %v", err)
	}
	sup, err := f.s.AddSuppression(f.ctx, store.Suppression{IncidentID: "inc-a", RuleID: "r1", Entity: "user:alice@example.com", Scope: "1",
		Reason: "travel team VPN", By: "ann", ExpiresAt: epoch.Add(24 * time.Hour)})
	f.must(err)
	if sup.ID == 0 || !sup.CreatedAt.Equal(epoch) {
		t.Fatalf("added %+v", sup)
	}
	list, err := f.s.ListSuppressions(f.ctx)
	f.must(err)
	if len(list) != 1 || list[0] != sup {
		t.Fatalf("listed %+v, want %+v", list, sup)
	}
	if !sup.Covers("r1", epoch.Add(time.Hour)) || sup.Covers("r2", epoch.Add(time.Hour)) || sup.Covers("r1", epoch.Add(-time.Second)) ||
		sup.Covers("r1", epoch.Add(25*time.Hour)) {
		t.Fatal("Covers disagrees with the suppression's rule and time span")
	}
	in, err := f.s.GetIncident(f.ctx, "inc-a")
	f.must(err)
	if h := in.History[len(in.History)-1]; h.Kind != store.ChangeNote || h.By != "ann" {
		t.Fatalf("suppression not in the incident's history: %+v", in.History)
	}
	if got, _ := streamActivities(f, t); len(got) != 2 || got[1] != "inc-a:update" {
		t.Fatalf("suppression not on the incident stream: %v", got)
	}
	f.must(f.s.RemoveSuppression(f.ctx, sup.ID))
	if err := f.s.RemoveSuppression(f.ctx, sup.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second remove: %v", err)
	}
}
