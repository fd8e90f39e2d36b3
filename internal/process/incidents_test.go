package process

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// incidentsOf lists every stored incident, with history, by id.
func incidentsOf(t *testing.T, s store.Store) []store.Incident {
	t.Helper()
	list, err := s.ListIncidents(t.Context(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(list, func(a, b store.Incident) int { return strings.Compare(a.ID, b.ID) })
	return list
}

// TestIncidentsSurviveRestart groups the alerts in two runs of two processors (a restart half
// way) and requires the same incidents as one run over everything.
func TestIncidentsSurviveRestart(t *testing.T) {
	c := sharedCorpus()
	one := openStore(t, t.TempDir(), nil)
	c.appendPages(t, one, 0, len(c.pages))
	drain(t, newProcessor(t, one, 200))

	two := openStore(t, t.TempDir(), nil)
	half := len(c.pages) / 2
	c.appendPages(t, two, 0, half)
	drain(t, newProcessor(t, two, 200))
	c.appendPages(t, two, half, len(c.pages))
	drain(t, newProcessor(t, two, 200))

	a, b := incidentsOf(t, one), incidentsOf(t, two)
	if len(a) == 0 {
		t.Fatal("no incidents")
	}
	if len(a) != len(b) {
		t.Fatalf("%d incidents in one run, %d with a restart", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || string(a[i].Detail) != string(b[i].Detail) || a[i].Status != b[i].Status {
			t.Errorf("incident %d differs:\n%s\n%s", i, a[i].Detail, b[i].Detail)
		}
	}
}

// TestResolvedIncidentReopens resolves an incident and stores a new alert that joins it: the
// incident is new again, with the reason in its history.
func TestResolvedIncidentReopens(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	p := newProcessor(t, s, 200)
	at := start.Add(time.Hour)
	alert := func(id string, d time.Duration) store.Alert {
		return store.Alert{ID: id, RuleID: "r", Severity: "high", Time: at.Add(d), IntegrationID: 1,
			GroupKey: "actor.alternateId=alice@example.com", Body: []byte(`{}`)}
	}
	if _, err := s.AppendAlerts(t.Context(), []store.Alert{alert("a1", 0)}); err != nil {
		t.Fatal(err)
	}
	if n, err := p.GroupIncidents(t.Context()); err != nil || n != 1 {
		t.Fatalf("grouped %d, %v", n, err)
	}
	id := incidentsOf(t, s)[0].ID
	if _, err := s.UpdateIncident(t.Context(), id, store.IncidentUpdate{By: "ana", Status: store.IncidentResolved}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendAlerts(t.Context(), []store.Alert{alert("a2", 2*time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.GroupIncidents(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetIncident(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	last := got.History[len(got.History)-1]
	if got.Status != store.IncidentNew || len(got.Alerts) != 2 || last.Kind != store.ChangeNote || !strings.Contains(last.Text, "reopened: alert a2") {
		t.Fatalf("after a new alert: %+v", got)
	}
	// Grouping again with nothing new changes nothing.
	if n, err := p.GroupIncidents(t.Context()); err != nil || n != 0 {
		t.Fatalf("regrouped %d, %v", n, err)
	}
}
