package server

import (
	"encoding/json"
	"net/http"
	"strings"
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

// TestSuppressionRoutes suppresses a pattern from an incident (recorded in its history under the
// key's name), lists it, refuses bad input, and removes it.
func TestSuppressionRoutes(t *testing.T) {
	e := newEnv(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if err := e.st.SaveIncidents(t.Context(), "idwatch", []store.Incident{{ID: "inc-1", Entity: "user:kim@example.com", Risk: 30,
		Severity: "high", FirstAlert: at, LastAlert: at, Alerts: []string{"al-1"},
		Detail: []byte(`{"id":"inc-1","scope":"1","rules":["okta_mfa_push_fatigue","okta_new_device"]}`)}}, nil); err != nil {
		t.Fatal(err)
	}
	viewer, analyst := e.keys[store.RoleViewer], e.keys[store.RoleAnalyst]
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	code, body := e.do(call{method: "POST", path: "/api/v1/incidents/inc-1/suppressions", key: analyst,
		body: map[string]any{"ruleId": "okta_new_device", "reason": "travel, ticket SEC-9", "until": until.Format(time.RFC3339)}})
	var sup store.Suppression
	if err := json.Unmarshal(body, &sup); code != http.StatusCreated || err != nil || sup.Entity != "user:kim@example.com" || sup.Scope != "1" ||
		sup.By != "test-analyst" || !sup.ExpiresAt.Equal(until) {
		t.Fatalf("suppress: %d %s", code, body)
	}
	in, err := e.st.GetIncident(t.Context(), "inc-1")
	if err != nil || in.History[len(in.History)-1].By != "test-analyst" || !strings.Contains(in.History[len(in.History)-1].Text, "SEC-9") {
		t.Fatalf("history: %+v %v", in.History, err)
	}
	code, body = e.do(call{method: "GET", path: "/api/v1/suppressions", key: viewer})
	var list suppressionList
	if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || len(list.Suppressions) != 1 {
		t.Fatalf("list: %d %s", code, body)
	}
	for _, c := range []struct {
		call
		want  int
		field string
	}{
		{call{method: "POST", path: "/api/v1/incidents/inc-1/suppressions", key: analyst, body: map[string]any{"ruleId": "okta_other", "reason": "x"}}, 400, "ruleId"},
		{call{method: "POST", path: "/api/v1/incidents/inc-1/suppressions", key: analyst, body: map[string]any{"ruleId": "okta_new_device", "reason": " "}}, 400, "reason"},
		{call{method: "POST", path: "/api/v1/incidents/inc-1/suppressions", key: analyst, body: map[string]any{"ruleId": "okta_new_device", "reason": "x", "entity": "kim"}}, 400, "entity"},
		{call{method: "POST", path: "/api/v1/incidents/inc-1/suppressions", key: analyst, body: map[string]any{"ruleId": "okta_new_device", "reason": "x", "until": "2001-01-01T00:00:00Z"}}, 400, "until"},
		{call{method: "POST", path: "/api/v1/incidents/nope/suppressions", key: analyst, body: map[string]any{"ruleId": "r", "reason": "x"}}, 404, "id"},
		{call{method: "POST", path: "/api/v1/incidents/inc-1/suppressions", key: viewer, body: map[string]any{"ruleId": "okta_new_device", "reason": "x"}}, 403, ""},
		{call{method: "DELETE", path: "/api/v1/suppressions/x1", key: analyst}, 400, "id"},
		{call{method: "DELETE", path: "/api/v1/suppressions/999", key: analyst}, 404, "id"},
		{call{method: "DELETE", path: "/api/v1/suppressions/1", key: viewer}, 403, ""},
	} {
		code, body := e.do(c.call)
		if code != c.want {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, code, body, c.want)
			continue
		}
		if er := e.errorOf(body); er.Fix == "" || er.Field != c.field {
			t.Errorf("%s %s: error %+v, want field %q and a fix", c.method, c.path, er, c.field)
		}
	}
	if code, body = e.do(call{method: "DELETE", path: "/api/v1/suppressions/1", key: analyst}); code != http.StatusNoContent {
		t.Fatalf("remove: %d %s", code, body)
	}
	if sups, err := e.st.ListSuppressions(t.Context()); err != nil || len(sups) != 0 {
		t.Fatalf("after removal: %+v %v", sups, err)
	}
}
