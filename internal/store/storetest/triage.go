package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// triageAlert is an alert about a user with a finding body naming its entities.
func triageAlert(id, rule, severity string, integration int64, at time.Time, entities ...string) store.Alert {
	ents := `[]`
	if len(entities) > 0 {
		ents = `["` + entities[0]
		for _, e := range entities[1:] {
			ents += `","` + e
		}
		ents += `"]`
	}
	return store.Alert{ID: id, RuleID: rule, Severity: severity, Time: at, IntegrationID: integration,
		Body: []byte(`{"finding_info":{"uid":"` + id + `"},"unmapped":{"entities":` + ents + `}}`)}
}

func alertIDs(as []store.TriagedAlert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

// listAlerts pages through q two at a time and returns the ids.
func (f *fixture) listAlerts(q store.AlertQuery) []string {
	f.t.Helper()
	q.Limit = 2
	var out []string
	for i := 0; ; i++ {
		p, err := f.s.SearchAlerts(f.ctx, q)
		f.must(err)
		out = append(out, alertIDs(p.Alerts)...)
		if p.Next == "" {
			return out
		}
		if i > 1000 {
			f.t.Fatal("alert paging does not end")
		}
		q.Cursor = p.Next
	}
}

func (su suite) alertTriage(t *testing.T) {
	f := su.open(t)
	at := func(m int) time.Time { return epoch.Add(time.Duration(m) * time.Minute) }
	_, err := f.s.AppendAlerts(f.ctx, []store.Alert{
		triageAlert("a1", "push_fatigue", "high", 1, at(1), "user:alice@acme.example", "user:00u1", "ip:203.0.113.9"),
		triageAlert("a2", "spray", "medium", 1, at(2), "ip:198.51.100.7"),
		triageAlert("a3", "push_fatigue", "high", 2, at(3), "user:bob@acme.example"),
		triageAlert("a4", "admin_grant", "critical", 1, at(4), "user:Alice@acme.example"),
		triageAlert("a5", "spray", "low", 2, at(4), "user:carol@acme.example"),
		{ID: "a6", RuleID: "odd", Severity: "low", Time: at(5), IntegrationID: 1, Body: []byte(`not json`)},
	})
	f.must(err)

	// Filters, newest first (time, then seq), across pages of two.
	for name, c := range map[string]struct {
		q    store.AlertQuery
		want []string
	}{
		"all":          {store.AlertQuery{}, []string{"a6", "a5", "a4", "a3", "a2", "a1"}},
		"severity":     {store.AlertQuery{Severities: []string{"high", "critical"}}, []string{"a4", "a3", "a1"}},
		"rule":         {store.AlertQuery{Rules: []string{"spray"}}, []string{"a5", "a2"}},
		"integration":  {store.AlertQuery{Integrations: []int64{2}}, []string{"a5", "a3"}},
		"identity":     {store.AlertQuery{Identity: "ALICE@acme.example"}, []string{"a4", "a1"}},
		"identity id":  {store.AlertQuery{Identity: "00u1"}, []string{"a1"}},
		"identity ip":  {store.AlertQuery{Identity: "ip:198.51.100.7"}, []string{"a2"}},
		"time":         {store.AlertQuery{Since: at(2), Until: at(4)}, []string{"a3", "a2"}},
		"status new":   {store.AlertQuery{Statuses: []string{store.AlertNew}}, []string{"a6", "a5", "a4", "a3", "a2", "a1"}},
		"rule+ident":   {store.AlertQuery{Rules: []string{"push_fatigue"}, Identity: "bob@acme.example"}, []string{"a3"}},
		"nothing":      {store.AlertQuery{Identity: "nobody"}, nil},
		"status other": {store.AlertQuery{Statuses: []string{store.AlertResolved}}, nil},
	} {
		if got := f.listAlerts(c.q); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", name, got, c.want)
		}
	}

	// The workflow: acknowledge, suppress with a reason and an end, the end passes.
	_, err = f.s.SetAlertStatus(f.ctx, []string{"a1"}, store.AlertStatusChange{Status: store.AlertAcknowledged, By: "ana", Note: "looking"})
	f.must(err)
	f.h.Clock.Advance(time.Minute)
	for name, c := range map[string]store.AlertStatusChange{
		"no by":           {Status: store.AlertResolved},
		"nothing":         {By: "ana"},
		"bad status":      {Status: "closed", By: "ana"},
		"no reason":       {Status: store.AlertSuppressed, By: "ana"},
		"reason not supp": {Status: store.AlertResolved, By: "ana", Reason: "x"},
		"past until":      {Status: store.AlertSuppressed, By: "ana", Reason: "x", Until: epoch},
	} {
		_, err := f.s.SetAlertStatus(f.ctx, []string{"a1"}, c)
		wantErr(t, name, err, store.ErrInvalid)
	}
	// An unknown id fails the whole change.
	_, err = f.s.SetAlertStatus(f.ctx, []string{"a2", "nope"}, store.AlertStatusChange{Status: store.AlertResolved, By: "ana"})
	wantErr(t, "unknown id", err, store.ErrNotFound)
	if a, _, _ := f.s.GetAlert(f.ctx, "a2"); a.Status != store.AlertNew {
		t.Fatalf("a failed change applied to a2: %s", a.Status)
	}
	until := f.h.Clock.Now().Add(time.Hour)
	got, err := f.s.SetAlertStatus(f.ctx, []string{"a1", "a2"}, store.AlertStatusChange{Status: store.AlertSuppressed, By: "lead",
		Reason: "pen test", Until: until})
	f.must(err)
	if len(got) != 2 || got[0].Status != store.AlertSuppressed || got[0].Reason != "pen test" || !got[0].SuppressedUntil.Equal(until) ||
		got[0].StatusBy != "lead" || !got[0].StatusAt.Equal(f.h.Clock.Now()) {
		t.Fatalf("suppressed: %+v", got)
	}
	if ids := f.listAlerts(store.AlertQuery{Statuses: []string{store.AlertSuppressed}}); !slices.Equal(ids, []string{"a2", "a1"}) {
		t.Fatalf("suppressed list %v", ids)
	}
	f.h.Clock.Advance(2 * time.Hour)
	a1, hist, err := f.s.GetAlert(f.ctx, "a1")
	f.must(err)
	if a1.Status != store.AlertAcknowledged || a1.Reason != "" || !a1.SuppressedUntil.IsZero() {
		t.Fatalf("after the suppression ended a1 reads %+v, want acknowledged again", a1)
	}
	if ids := f.listAlerts(store.AlertQuery{Statuses: []string{store.AlertNew}}); !slices.Equal(ids, []string{"a6", "a5", "a4", "a3", "a2"}) {
		t.Fatalf("new after the suppression ended: %v", ids)
	}
	// A note alone records without changing the status; history is append-only and complete.
	_, err = f.s.SetAlertStatus(f.ctx, []string{"a1"}, store.AlertStatusChange{By: "ana", Note: "user confirmed"})
	f.must(err)
	_, err = f.s.SetAlertStatus(f.ctx, []string{"a1"}, store.AlertStatusChange{Status: store.AlertResolved, By: "ana"})
	f.must(err)
	a1, hist, err = f.s.GetAlert(f.ctx, "a1")
	f.must(err)
	var steps []string
	for _, h := range hist {
		steps = append(steps, fmt.Sprintf("%s:%s>%s:%s:%s", h.By, h.From, h.To, h.Note, h.Reason))
	}
	want := []string{"ana:new>acknowledged:looking:", "lead:acknowledged>suppressed::pen test", "ana:acknowledged>acknowledged:user confirmed:",
		"ana:acknowledged>resolved::"}
	if a1.Status != store.AlertResolved || !slices.Equal(steps, want) || !hist[1].Until.Equal(until) {
		t.Fatalf("history %v\nwant    %v", steps, want)
	}
	if _, _, err := f.s.GetAlert(f.ctx, "nope"); err == nil {
		t.Fatal("unknown alert found")
	} else {
		wantErr(t, "get unknown", err, store.ErrNotFound)
	}

	// Closing an incident resolves its open alerts; a suppressed one stays suppressed.
	_, err = f.s.SetAlertStatus(f.ctx, []string{"a5"}, store.AlertStatusChange{Status: store.AlertSuppressed, By: "ana", Reason: "known"})
	f.must(err)
	f.must(f.s.SaveIncidents(f.ctx, "processor", []store.Incident{sampleIncident("inc-x", "user:carol@acme.example", 10, "a3", "a5", "gone")}, nil))
	_, err = f.s.UpdateIncident(f.ctx, "inc-x", store.IncidentUpdate{By: "lead", Status: store.IncidentFalsePositive})
	f.must(err)
	a3, hist3, _ := f.s.GetAlert(f.ctx, "a3")
	a5, _, _ := f.s.GetAlert(f.ctx, "a5")
	if a3.Status != store.AlertResolved || a5.Status != store.AlertSuppressed || len(hist3) != 1 || hist3[0].By != "lead" ||
		hist3[0].Note != "incident inc-x closed as false_positive" {
		t.Fatalf("after closing the incident: a3 %s %+v, a5 %s", a3.Status, hist3, a5.Status)
	}

	// Bad cursors and page sizes.
	p, err := f.s.SearchAlerts(f.ctx, store.AlertQuery{Limit: 1})
	f.must(err)
	for name, q := range map[string]store.AlertQuery{
		"garbage":     {Cursor: "%%%"},
		"other query": {Rules: []string{"spray"}, Cursor: p.Next},
		"limit":       {Limit: -1},
		"status":      {Statuses: []string{"open"}},
	} {
		_, err := f.s.SearchAlerts(f.ctx, q)
		wantErr(t, name, err, store.ErrInvalid)
	}
	// Trimmed alerts leave the list and their history goes with them.
	_, err = f.s.TrimAlerts(f.ctx, f.h.Clock.Now().Add(time.Hour))
	f.must(err)
	if ids := f.listAlerts(store.AlertQuery{}); len(ids) != 0 {
		t.Fatalf("after trimming: %v", ids)
	}
}
