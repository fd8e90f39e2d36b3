package server

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// TestIncidentRoutes lists, reads and triages an incident through the API: the change is
// recorded under the key's name, resolving resolves the incident's alerts, and bad input gets the
// error shape.
func TestIncidentRoutes(t *testing.T) {
	e := newEnv(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if _, err := e.st.AppendAlerts(t.Context(), []store.Alert{{ID: "al-1", RuleID: "r", Severity: "high", Time: at, IntegrationID: 1,
		GroupKey: "actor.alternateId=kim@example.com", Body: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SaveIncidents(t.Context(), "idwatch", []store.Incident{{ID: "inc-1", Entity: "user:kim@example.com", Risk: 30,
		Severity: "high", FirstAlert: at, LastAlert: at, Alerts: []string{"al-1"}, Detail: []byte(`{"id":"inc-1"}`)}}, nil); err != nil {
		t.Fatal(err)
	}
	viewer, analyst := e.keys[store.RoleViewer], e.keys[store.RoleAnalyst]
	code, body := e.do(call{method: "GET", path: "/api/v1/incidents?status=new", key: viewer})
	var list incidentList
	if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || len(list.Incidents) != 1 || list.Incidents[0].ID != "inc-1" {
		t.Fatalf("list: %d %s", code, body)
	}
	code, body = e.do(call{method: "PATCH", path: "/api/v1/incidents/inc-1", key: analyst,
		body: map[string]any{"status": "resolved", "assignee": "ann", "note": "password reset done"}})
	var in store.Incident
	if err := json.Unmarshal(body, &in); code != http.StatusOK || err != nil || in.Status != "resolved" || in.Assignee != "ann" {
		t.Fatalf("update: %d %s", code, body)
	}
	last := in.History[len(in.History)-1]
	if last.By != "test-analyst" {
		t.Fatalf("change recorded as %q, want the key's name", last.By)
	}
	a, _, err := e.st.GetAlert(t.Context(), "al-1")
	if err != nil || a.Status != store.AlertResolved {
		t.Fatalf("the incident's alert after resolving: %+v %v", a, err)
	}
	if code, body = e.do(call{method: "GET", path: "/api/v1/incidents/inc-1", key: viewer}); code != http.StatusOK {
		t.Fatalf("get: %d %s", code, body)
	}
	for _, c := range []struct {
		call
		want int
	}{
		{call{method: "GET", path: "/api/v1/incidents/nope", key: viewer}, http.StatusNotFound},
		{call{method: "GET", path: "/api/v1/incidents?status=closed", key: viewer, invalid: true}, http.StatusBadRequest},
		{call{method: "PATCH", path: "/api/v1/incidents/inc-1", key: analyst, body: map[string]any{"status": "done"}, invalid: true}, http.StatusBadRequest},
		{call{method: "PATCH", path: "/api/v1/incidents/inc-1", key: analyst, body: `{"owner":"x"}`, invalid: true}, http.StatusBadRequest},
		{call{method: "PATCH", path: "/api/v1/incidents/inc-1", key: viewer, body: map[string]any{"note": "x"}}, http.StatusForbidden},
	} {
		code, body := e.do(c.call)
		if code != c.want {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, code, body, c.want)
			continue
		}
		if er := e.errorOf(body); er.Fix == "" {
			t.Errorf("%s %s: error without a fix: %+v", c.method, c.path, er)
		}
	}
}
