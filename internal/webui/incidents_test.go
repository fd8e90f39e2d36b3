package webui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/server"
	"github.com/idwatch/idwatch/internal/store"
)

// TestBackendIncidents runs the incident pages' calls over the real API and store: the list,
// the timeline with each alert's contribution, a change recorded under the signed-in key's name,
// a pattern suppression, and a viewer refused.
func TestBackendIncidents(t *testing.T) {
	b, st, _, _ := backend(t)
	ctx := context.Background()
	for name, role := range map[string]store.Role{"ann": store.RoleAnalyst, "val": store.RoleViewer} {
		if _, _, err := server.CreateKey(ctx, st, name, role); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	body := `{"finding_info":{"analytic":{"name":"MFA push fatigue"}},"unmapped":{"entities":["user:kim@acme.example"]}}`
	if _, err := st.AppendAlerts(ctx, []store.Alert{
		{ID: "al-1", RuleID: "okta_mfa_push_fatigue", Severity: "high", Time: at, IntegrationID: 1, Body: []byte(body)},
		{ID: "al-2", RuleID: "okta_new_device", Severity: "medium", Time: at.Add(time.Minute), IntegrationID: 1, Body: []byte(`{}`)},
	}); err != nil {
		t.Fatal(err)
	}
	detail := `{"id":"inc-1","scope":"1","entity":"user:kim@acme.example","entities":["user:kim@acme.example","ip:198.51.100.7"],
		"alerts":["al-1","al-2"],"rules":["okta_mfa_push_fatigue","okta_new_device"],"stage":"Persistence","risk":55,"severity":"high",
		"contributions":[{"alertId":"al-1","ruleId":"okta_mfa_push_fatigue","points":30,"rule":20,"entities":0,"stage":10,"reached":"Credential Access"},
		{"alertId":"al-2","ruleId":"okta_new_device","points":25,"rule":10,"entities":1,"stage":14,"reached":"Persistence"}]}`
	if err := st.SaveIncidents(ctx, "idwatch", []store.Incident{{ID: "inc-1", Entity: "user:kim@acme.example", Risk: 55, Severity: "high",
		FirstAlert: at, LastAlert: at.Add(time.Minute), Alerts: []string{"al-1", "al-2"}, Detail: []byte(detail)}}, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := b.Incidents(ctx, console.IncidentQuery{Limit: 50})
	if err != nil || len(rows) != 1 || rows[0].Risk != 55 || rows[0].Stage != "Persistence" || rows[0].Alerts != 2 {
		t.Fatalf("incidents: %+v %v", rows, err)
	}
	d, err := b.Incident(ctx, "inc-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Timeline) != 2 || d.Timeline[0].Title != "MFA push fatigue" || d.Timeline[1].Points != 25 || d.Timeline[1].Reached != "Persistence" ||
		strings.Join(d.Stages, ",") != "Credential Access,Persistence" || len(d.Entities) != 2 {
		t.Fatalf("detail: %+v", d)
	}
	ann := console.Principal{Name: "ann", Role: console.RoleAnalyst}
	assignee := "ann"
	if err := b.UpdateIncident(ctx, ann, "inc-1", console.IncidentChange{Status: "in_progress", Assignee: &assignee, Note: "calling kim"}); err != nil {
		t.Fatal(err)
	}
	if err := b.SuppressPattern(ctx, ann, "inc-1", console.PatternSuppression{RuleID: "okta_new_device", Entity: "user:kim@acme.example", Reason: "new laptop"}); err != nil {
		t.Fatal(err)
	}
	var ce *console.Error
	if err := b.SuppressPattern(ctx, ann, "inc-1", console.PatternSuppression{RuleID: "okta_other", Reason: "x"}); !errors.As(err, &ce) || ce.Fix == "" {
		t.Fatalf("a rule outside the incident: %v", err)
	}
	if err := b.UpdateIncident(ctx, console.Principal{Name: "val", Role: console.RoleViewer}, "inc-1", console.IncidentChange{Note: "x"}); !errors.As(err, &ce) {
		t.Fatalf("a viewer's change: %v", err)
	}
	in, err := st.GetIncident(ctx, "inc-1")
	if err != nil || in.Status != "in_progress" || in.Assignee != "ann" {
		t.Fatalf("stored: %+v %v", in, err)
	}
	byAnn := 0
	for _, h := range in.History {
		if h.By == "ann" {
			byAnn++
		}
	}
	if byAnn < 3 {
		t.Fatalf("history: %+v", in.History)
	}
	if sups, err := st.ListSuppressions(ctx); err != nil || len(sups) != 1 || sups[0].By != "ann" {
		t.Fatalf("suppressions: %+v %v", sups, err)
	}
}
