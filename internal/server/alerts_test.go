package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

func TestAlertRoutes(t *testing.T) {
	e := newEnv(t)
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	id := journalFixture(t, e, base, 6)
	finding := `{"finding_info":{"title":"MFA push fatigue","analytic":{"name":"Okta MFA Push Fatigue"},
		"attacks":[{"tactic":{"name":"Credential Access","uid":"TA0006"},"technique":{"name":"Multi-Factor Authentication Request Generation","uid":"T1621"}}],
		"related_events":[{"uid":"ev-001"},{"uid":"ev-003"},{"uid":"ev-gone"}]},"unmapped":{"entities":["user:user1@acme.example"]}}`
	alerts := []store.Alert{
		{ID: "al-1", RuleID: "okta_mfa_push_fatigue", Severity: "high", Time: base.Add(5 * time.Minute), IntegrationID: id, Body: []byte(finding)},
		{ID: "al-2", RuleID: "okta_other", Severity: "low", Time: base.Add(6 * time.Minute), IntegrationID: id, Body: []byte(`{}`)},
		{ID: "al-3", RuleID: "okta_other", Severity: "low", Time: base.Add(7 * time.Minute), IntegrationID: id, Body: []byte(`{}`)},
	}
	if _, err := e.st.AppendAlerts(t.Context(), alerts); err != nil {
		t.Fatal(err)
	}
	viewer, analyst := e.keys[store.RoleViewer], e.keys[store.RoleAnalyst]

	code, body := e.do(call{method: "GET", path: "/api/v1/alerts?counts=true&limit=2", key: viewer})
	var list AlertList
	if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || len(list.Alerts) != 2 || list.Next == "" ||
		list.Alerts[0].ID != "al-3" || list.BySeverity["low"] != 2 || list.BySeverity["high"] != 1 {
		t.Fatalf("list: %d %s", code, body)
	}
	code, body = e.do(call{method: "GET", path: "/api/v1/alerts?identity=user1@acme.example&severity=high,critical&integration=acme", key: viewer})
	if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || len(list.Alerts) != 1 {
		t.Fatalf("filtered list: %d %s", code, body)
	}
	a := list.Alerts[0]
	if a.RuleTitle != "Okta MFA Push Fatigue" || a.IntegrationName != "acme" || !slices.Equal(a.Techniques, []string{"T1621"}) ||
		!slices.Equal(a.Entities, []string{"user:user1@acme.example"}) {
		t.Fatalf("list row: %+v", a)
	}

	// The detail carries the evidence raw and as OCSF, and names what retention took.
	code, body = e.do(call{method: "GET", path: "/api/v1/alerts/al-1", key: viewer})
	var d AlertDetailView
	if err := json.Unmarshal(body, &d); code != http.StatusOK || err != nil {
		t.Fatalf("detail: %d %s", code, body)
	}
	if len(d.Evidence) != 2 || d.Evidence[0].UUID != "ev-001" || len(d.Evidence[0].OCSF) == 0 || d.Evidence[0].Raw == nil ||
		!slices.Equal(d.Missing, []string{"ev-gone"}) || d.EvidenceTotal != 3 || len(d.Attacks) != 1 {
		t.Fatalf("detail evidence: %s", body)
	}

	// A reader that shows a few events asks for a few.
	code, body = e.do(call{method: "GET", path: "/api/v1/alerts/al-1?evidence=1", key: viewer})
	if err := json.Unmarshal(body, &d); code != http.StatusOK || err != nil || len(d.Evidence) != 1 || d.EvidenceTotal != 3 {
		t.Fatalf("one evidence event: %d %s", code, body)
	}

	// The workflow, recorded under the key's name.
	steps := []struct {
		path string
		body any
		want string
	}{
		{"/api/v1/alerts/al-1/ack", nil, store.AlertAcknowledged},
		{"/api/v1/alerts/al-1/notes", map[string]any{"note": "called the user: not them"}, store.AlertAcknowledged},
		{"/api/v1/alerts/al-1/suppress", map[string]any{"reason": "pen test", "until": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, store.AlertSuppressed},
		{"/api/v1/alerts/al-1/reopen", nil, store.AlertNew},
		{"/api/v1/alerts/al-1/resolve", map[string]any{"note": "password reset"}, store.AlertResolved},
	}
	for _, s := range steps {
		code, body := e.do(call{method: "POST", path: s.path, key: analyst, body: s.body})
		var v AlertView
		if err := json.Unmarshal(body, &v); code != http.StatusOK || err != nil || v.Status != s.want {
			t.Fatalf("%s: %d %s, want status %s", s.path, code, body, s.want)
		}
	}
	_, hist, err := e.st.GetAlert(t.Context(), "al-1")
	if err != nil || len(hist) != 5 {
		t.Fatalf("history %+v %v", hist, err)
	}
	for _, h := range hist {
		if h.By != "test-analyst" {
			t.Fatalf("change recorded as %q, want the key's name", h.By)
		}
	}
	if hist[1].Note != "called the user: not them" || hist[2].Reason != "pen test" || hist[4].Note != "password reset" {
		t.Fatalf("history %+v", hist)
	}

	for _, c := range []struct {
		call
		want  int
		field string
	}{
		{call{method: "GET", path: "/api/v1/alerts/nope", key: viewer}, 404, "id"},
		{call{method: "GET", path: "/api/v1/alerts/al-1?evidence=201", key: viewer, invalid: true}, 400, "evidence"},
		{call{method: "POST", path: "/api/v1/alerts/nope/ack", key: analyst}, 404, "id"},
		{call{method: "POST", path: "/api/v1/alerts/al-2/ack", key: viewer}, 403, ""},
		{call{method: "POST", path: "/api/v1/alerts/al-2/suppress", key: analyst, body: map[string]any{"note": "x"}, invalid: true}, 400, "reason"},
		{call{method: "POST", path: "/api/v1/alerts/al-2/suppress", key: analyst, body: map[string]any{"reason": "x", "until": "2001-01-01T00:00:00Z"}}, 400, "until"},
		{call{method: "POST", path: "/api/v1/alerts/al-2/ack", key: analyst, body: map[string]any{"reason": "x"}, invalid: true}, 400, "reason"},
		{call{method: "POST", path: "/api/v1/alerts/al-2/notes", key: analyst, body: map[string]any{"note": "  "}}, 400, "note"},
		{call{method: "POST", path: "/api/v1/alerts/al-2/notes", key: analyst, body: `{"note":"x","by":"someone else"}`, invalid: true}, 400, ""},
		{call{method: "POST", path: "/api/v1/alerts/al-2/notes", key: analyst, body: `{"note":`, invalid: true}, 400, ""},
		{call{method: "GET", path: "/api/v1/alerts?status=open", key: viewer, invalid: true}, 400, "status"},
		{call{method: "GET", path: "/api/v1/alerts?cursor=zzz", key: viewer}, 400, "cursor"},
		{call{method: "GET", path: "/api/v1/alerts?counts=yes", key: viewer, invalid: true}, 400, "counts"},
		{call{method: "GET", path: "/api/v1/alerts?sevrity=high", key: viewer, invalid: true}, 400, "sevrity"},
	} {
		code, body := e.do(c.call)
		if code != c.want {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, code, body, c.want)
			continue
		}
		if er := e.errorOf(body); er.Fix == "" || c.field != "" && er.Field != c.field {
			t.Errorf("%s %s: error %+v, want field %q and a fix", c.method, c.path, er, c.field)
		}
	}
	// Nothing was changed by the refused calls.
	if a, _, err := e.st.GetAlert(t.Context(), "al-2"); err != nil || a.Status != store.AlertNew {
		t.Fatalf("al-2 after refusals: %+v %v", a, err)
	}
}
