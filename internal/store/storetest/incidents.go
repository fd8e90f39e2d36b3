package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// sampleIncident returns a valid incident about entity holding alerts.
func sampleIncident(id, entity string, risk int, alerts ...string) store.Incident {
	return store.Incident{ID: id, Entity: entity, Risk: risk, Severity: "high", FirstAlert: epoch,
		LastAlert: epoch.Add(time.Duration(len(alerts)) * time.Minute), Alerts: alerts,
		Detail: []byte(`{"id":"` + id + `"}`)}
}

func kinds(h []store.IncidentChange) []string {
	var out []string
	for _, c := range h {
		out = append(out, c.Kind)
	}
	return out
}

func (su suite) incidents(t *testing.T) {
	f := su.open(t)
	f.must(f.s.SaveIncidents(f.ctx, "processor", []store.Incident{
		sampleIncident("inc-a", "user:alice@example.com", 30, "a1", "a2"),
		sampleIncident("inc-b", "user:bob@example.com", 50, "b1"),
	}, nil))
	got, err := f.s.GetIncident(f.ctx, "inc-a")
	f.must(err)
	if got.Status != store.IncidentNew || got.Entity != "user:alice@example.com" || got.Risk != 30 || got.Severity != "high" ||
		!got.FirstAlert.Equal(epoch) || !got.LastAlert.Equal(epoch.Add(2*time.Minute)) || !slices.Equal(got.Alerts, []string{"a1", "a2"}) ||
		string(got.Detail) != `{"id":"inc-a"}` || !got.CreatedAt.Equal(epoch) || !got.ClosedAt.IsZero() {
		t.Fatalf("round trip %+v", got)
	}
	if !slices.Equal(kinds(got.History), []string{store.ChangeCreated}) || got.History[0].By != "processor" {
		t.Fatalf("history %+v", got.History)
	}

	// Saving the same grouping again changes nothing; a grown one updates and is recorded.
	f.h.Clock.Advance(time.Minute)
	f.must(f.s.SaveIncidents(f.ctx, "processor", []store.Incident{sampleIncident("inc-a", "user:alice@example.com", 30, "a1", "a2")}, nil))
	if got, _ := f.s.GetIncident(f.ctx, "inc-a"); len(got.History) != 1 || !got.UpdatedAt.Equal(epoch) {
		t.Fatalf("same grouping again: %+v", got)
	}
	f.must(f.s.SaveIncidents(f.ctx, "processor", []store.Incident{sampleIncident("inc-a", "user:alice@example.com", 45, "a1", "a2", "a3")}, nil))
	got, err = f.s.GetIncident(f.ctx, "inc-a")
	f.must(err)
	if got.Risk != 45 || len(got.Alerts) != 3 || !got.UpdatedAt.Equal(epoch.Add(time.Minute)) ||
		!slices.Equal(kinds(got.History), []string{store.ChangeCreated, store.ChangeAlerts}) {
		t.Fatalf("grown incident %+v", got)
	}

	// List: highest risk first, filtered by status.
	list, err := f.s.ListIncidents(f.ctx, "", 10)
	f.must(err)
	if len(list) != 2 || list[0].ID != "inc-b" || list[1].ID != "inc-a" {
		t.Fatalf("list %+v", list)
	}

	// The workflow: status, assignee, notes, each in the history; closing stamps ClosedAt.
	f.h.Clock.Advance(time.Minute)
	who := "ana"
	got, err = f.s.UpdateIncident(f.ctx, "inc-a", store.IncidentUpdate{By: "ana", Status: store.IncidentInProgress, Assignee: &who, Note: "looking"})
	f.must(err)
	if got.Status != store.IncidentInProgress || got.Assignee != "ana" ||
		!slices.Equal(kinds(got.History), []string{store.ChangeCreated, store.ChangeAlerts, store.ChangeStatus, store.ChangeAssignee, store.ChangeNote}) ||
		got.History[4].Text != "looking" || got.History[4].By != "ana" || !got.History[4].At.Equal(epoch.Add(2*time.Minute)) {
		t.Fatalf("after update %+v", got)
	}
	got, err = f.s.UpdateIncident(f.ctx, "inc-a", store.IncidentUpdate{By: "ana", Status: store.IncidentResolved})
	f.must(err)
	if !got.ClosedAt.Equal(epoch.Add(2*time.Minute)) || got.History[5].Text != "in_progress → resolved" {
		t.Fatalf("resolved %+v", got)
	}
	list, err = f.s.ListIncidents(f.ctx, store.IncidentResolved, 10)
	f.must(err)
	if len(list) != 1 || list[0].ID != "inc-a" {
		t.Fatalf("resolved list %+v", list)
	}
	// A regrouping keeps the workflow.
	f.must(f.s.SaveIncidents(f.ctx, "processor", []store.Incident{sampleIncident("inc-a", "user:alice@example.com", 50, "a1", "a2", "a3", "a4")}, nil))
	if got, _ := f.s.GetIncident(f.ctx, "inc-a"); got.Status != store.IncidentResolved || got.Assignee != "ana" {
		t.Fatalf("regrouping changed the workflow: %+v", got)
	}

	// A merge moves the absorbed incident's history and deletes it.
	f.must(f.s.SaveIncidents(f.ctx, "processor", []store.Incident{sampleIncident("inc-a", "user:alice@example.com", 70, "a1", "a2", "a3", "a4", "b1")},
		map[string][]string{"inc-a": {"inc-b"}}))
	wantErr(t, "merged incident", func() error { _, err := f.s.GetIncident(f.ctx, "inc-b"); return err }(), store.ErrNotFound)
	got, err = f.s.GetIncident(f.ctx, "inc-a")
	f.must(err)
	created := 0
	for _, k := range kinds(got.History) {
		if k == store.ChangeCreated {
			created++
		}
	}
	if k := kinds(got.History); !slices.Contains(k, store.ChangeMerged) || created != 2 {
		t.Fatalf("merged history %v", k)
	}

	// Bad input is refused with ErrInvalid, unknown ids with ErrNotFound.
	_, err = f.s.UpdateIncident(f.ctx, "inc-a", store.IncidentUpdate{By: "ana", Status: "closed"})
	wantErr(t, "unknown status", err, store.ErrInvalid)
	_, err = f.s.UpdateIncident(f.ctx, "inc-a", store.IncidentUpdate{By: "ana"})
	wantErr(t, "empty update", err, store.ErrInvalid)
	_, err = f.s.UpdateIncident(f.ctx, "inc-a", store.IncidentUpdate{Note: "x"})
	wantErr(t, "update without author", err, store.ErrInvalid)
	_, err = f.s.UpdateIncident(f.ctx, "inc-zz", store.IncidentUpdate{By: "ana", Note: "x"})
	wantErr(t, "unknown incident", err, store.ErrNotFound)
	_, err = f.s.ListIncidents(f.ctx, "open", 10)
	wantErr(t, "list unknown status", err, store.ErrInvalid)
	wantErr(t, "incident without alerts", f.s.SaveIncidents(f.ctx, "p", []store.Incident{{ID: "x", Entity: "e"}}, nil), store.ErrInvalid)

	su.reopenStore(f)
	if got, err := f.s.GetIncident(f.ctx, "inc-a"); err != nil || got.Status != store.IncidentResolved || len(got.Alerts) != 5 {
		t.Fatalf("after reopen %+v %v", got, err)
	}
}
