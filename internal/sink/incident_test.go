package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/incident"
	"github.com/idwatch/idwatch/internal/normalize/ocsftest"
	"github.com/idwatch/idwatch/internal/store"
)

// TestRunnerDeliversIncidentFindings follows the incident stream: every change of an incident
// arrives as its own valid OCSF Incident Finding, in order, with the org it belongs to.
func TestRunnerDeliversIncidentFindings(t *testing.T) {
	st := openStore(t, t.TempDir())
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	group := func(scope string, n int) store.Incident {
		var alerts []incident.Alert
		for i := range n {
			alerts = append(alerts, incident.Alert{ID: scope + "-a" + string(rune('0'+i)), RuleID: "r", Severity: "high",
				Time: t0.Add(time.Duration(i) * time.Minute), Scope: scope, GroupKey: "actor.alternateId=kim@example.com"})
		}
		incs, err := incident.Group(alerts, incident.Config{})
		if err != nil || len(incs) != 1 {
			t.Fatalf("group: %v %+v", err, incs)
		}
		in := incs[0]
		detail, _ := json.Marshal(in)
		return store.Incident{ID: in.ID, Entity: string(in.Entity), Risk: in.Risk, Severity: in.Severity, FirstAlert: in.First,
			LastAlert: in.Last, Alerts: in.Alerts, Detail: detail}
	}
	one, other := group("1", 1), group("2", 1)
	if err := st.SaveIncidents(ctx, "idwatch", []store.Incident{one, other}, nil); err != nil {
		t.Fatal(err)
	}
	grown := group("1", 2)
	grown.ID = one.ID
	if err := st.SaveIncidents(ctx, "idwatch", []store.Incident{grown}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateIncident(ctx, one.ID, store.IncidentUpdate{By: "ann", Status: store.IncidentResolved}); err != nil {
		t.Fatal(err)
	}
	fs := &funcSink{}
	cfg := testConfig("inc", &FileConfig{Path: "x"})
	cfg.Carry = []Kind{KindIncident}
	startRunner(t, RunnerOptions{Store: st, Config: cfg, Sink: fs})
	waitFor(t, "the incident stream delivered", func() bool { return offsetOf(t, st, "sink/inc/incidents") == 4 })
	v := ocsftest.New(t)
	var got []string
	for _, r := range fs.records() {
		if r.Kind != KindIncident || r.IntegrationID == 0 {
			t.Fatalf("record %+v", r)
		}
		if err := v.Validate(r.Body); err != nil {
			t.Fatalf("record %s is not a valid Incident Finding: %v\n%s", r.ID, err, r.Body)
		}
		var f struct {
			Activity string `json:"activity_name"`
			Status   string `json:"status"`
		}
		if err := json.Unmarshal(r.Body, &f); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%s/%s", r.IntegrationID, f.Activity, f.Status))
	}
	want := []string{"1:Create/New", "2:Create/New", "1:Update/New", "1:Close/Resolved"}
	if !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}
