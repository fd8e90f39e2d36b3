package webui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/server"
	"github.com/idwatch/idwatch/internal/store"
)

// TestBackendAlertsEvents runs the console's alert and event pages' calls over the real API: the
// list with counts, the detail with evidence and ATT&CK, triage under the signed-in key's name
// (and refused to a viewer), and an event search with its histogram.
func TestBackendAlertsEvents(t *testing.T) {
	b, st, orgURL, token := backend(t)
	ctx := context.Background()
	admin, _, err := server.CreateKey(ctx, st, "ops", store.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := server.CreateKey(ctx, st, "ann", store.RoleAnalyst); err != nil {
		t.Fatal(err)
	}
	if _, _, err := server.CreateKey(ctx, st, "val", store.RoleViewer); err != nil {
		t.Fatal(err)
	}
	p, err := b.Authenticate(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddIntegration(ctx, p, console.NewIntegration{Name: "lab", OrgURL: orgURL, Credentials: console.Credentials{APIToken: "SSWS " + token}}); err != nil {
		t.Fatal(err)
	}
	in, err := st.IntegrationByName(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	var evs []store.Event
	for i := range 20 {
		at := now.Add(-time.Duration(20-i) * time.Minute)
		raw, _ := json.Marshal(map[string]any{"uuid": fmt.Sprint("ev-", i), "eventType": "user.session.start", "published": at,
			"actor":   map[string]any{"id": "00u1", "type": "User", "alternateId": "kim@acme.example"},
			"client":  map[string]any{"ipAddress": "198.51.100.7"},
			"outcome": map[string]any{"result": "FAILURE"},
			"target":  []map[string]any{{"id": "0oa1", "type": "AppInstance", "alternateId": "Salesforce"}}})
		evs = append(evs, store.Event{UUID: fmt.Sprint("ev-", i), Published: at, EventType: "user.session.start", Raw: raw})
	}
	if _, err := st.AppendPage(ctx, in.ID, evs, nil); err != nil {
		t.Fatal(err)
	}
	body := `{"finding_info":{"analytic":{"name":"Okta Password Spray"},"desc":"Many failed sign-ins from one address.",
		"attacks":[{"tactic":{"name":"Credential Access"},"technique":{"name":"Brute Force","uid":"T1110"},"sub_technique":{"name":"Password Spraying","uid":"T1110.003"}}],
		"related_events":[{"uid":"ev-3"},{"uid":"ev-4"}]},"unmapped":{"entities":["ip:198.51.100.7","user:kim@acme.example"]}}`
	if _, err := st.AppendAlerts(ctx, []store.Alert{
		{ID: "al-1", RuleID: "okta_password_spray", Severity: "high", Time: now.Add(-5 * time.Minute), IntegrationID: in.ID, Body: []byte(body)},
		{ID: "al-2", RuleID: "okta_other", Severity: "low", Time: now.Add(-4 * time.Minute), IntegrationID: in.ID, Body: []byte(`{}`)},
	}); err != nil {
		t.Fatal(err)
	}

	page, err := b.Alerts(ctx, console.AlertQuery{Limit: 200})
	if err != nil || page.Total != 2 || page.BySeverity["high"] != 1 || len(page.Alerts) != 2 || page.Alerts[1].Title != "Okta Password Spray" ||
		page.Alerts[1].Identity != "kim@acme.example" || page.Alerts[1].Technique != "T1110.003" || page.Alerts[1].Integration != "lab" {
		t.Fatalf("alerts: %+v %v", page, err)
	}
	page, err = b.Alerts(ctx, console.AlertQuery{Severity: "low", Limit: 200})
	if err != nil || page.Total != 1 || page.Alerts[0].ID != "al-2" {
		t.Fatalf("alerts by severity: %+v %v", page, err)
	}
	d, err := b.Alert(ctx, "al-1")
	if err != nil {
		t.Fatal(err)
	}
	if d.Description != "Many failed sign-ins from one address." || len(d.Techniques) != 1 ||
		d.Techniques[0].URL != "https://attack.mitre.org/techniques/T1110/003/" || len(d.Evidence) != 2 ||
		d.Evidence[0].Actor != "kim@acme.example" || d.Evidence[0].Outcome != "FAILURE" || !strings.Contains(d.Evidence[0].OCSF, `"class_uid"`) {
		t.Fatalf("detail: %+v", d)
	}
	ann := console.Principal{Name: "ann", Role: console.RoleAnalyst}
	if err := b.AlertAction(ctx, ann, "al-1", console.AlertAction{Kind: console.ActionSuppress, Note: "pen test SEC-142", Until: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	err = b.AlertAction(ctx, console.Principal{Name: "val", Role: console.RoleViewer}, "al-2", console.AlertAction{Kind: console.ActionAck})
	var ce *console.Error
	if !errors.As(err, &ce) {
		t.Fatalf("a viewer's triage: %v", err)
	}
	if err := b.AlertAction(ctx, ann, "nope", console.AlertAction{Kind: console.ActionAck}); !errors.Is(err, console.ErrNotFound) {
		t.Fatalf("unknown alert: %v", err)
	}
	d, err = b.Alert(ctx, "al-1")
	if err != nil || d.Status != store.AlertSuppressed || len(d.Notes) != 1 || d.Notes[0].By != "ann" || !strings.Contains(d.Notes[0].Text, "pen test SEC-142") {
		t.Fatalf("after suppressing: %+v %v", d, err)
	}

	since, until := now.Add(-24*time.Hour), now.Add(time.Second)
	res, err := b.SearchEvents(ctx, console.EventQuery{Actor: "kim@acme.example", Limit: 5, Since: since, Until: until})
	if err != nil || len(res.Events) != 5 || res.NextCursor == "" || res.Total != 20 || len(res.Histogram) != histogramBucket {
		t.Fatalf("search: %d events, next %q, total %d, %d buckets, %v", len(res.Events), res.NextCursor, res.Total, len(res.Histogram), err)
	}
	if e := res.Events[0]; e.UUID != "ev-19" || e.Target != "Salesforce" || e.IP != "198.51.100.7" || e.Integration != "lab" || e.OCSF == "" {
		t.Fatalf("first row: %+v", e)
	}
	var sum float64
	for _, pt := range res.Histogram {
		sum += pt.V
	}
	if sum != 20 {
		t.Fatalf("histogram sums to %v", sum)
	}
	next, err := b.SearchEvents(ctx, console.EventQuery{Actor: "kim@acme.example", Limit: 5, Since: since, Until: until, Cursor: res.NextCursor})
	if err != nil || len(next.Events) != 5 || next.Events[0].UUID != "ev-14" {
		t.Fatalf("next page: %+v %v", next.Events, err)
	}
	if _, err := b.SearchEvents(ctx, console.EventQuery{Type: "user.*x", Limit: 5}); !errors.As(err, &ce) || ce.Message == "" {
		t.Fatalf("a bad type pattern: %v", err)
	}
}
