package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/incident"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// incidentDataDir stores two alerts about one user and their incident, and returns the data
// directory and the incident's id.
func incidentDataDir(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.OpenDataDir(context.Background(), dir, sqlite.Options{Keys: sqlite.KeyStore})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	alerts := []store.Alert{
		{ID: "a1", RuleID: "mfa-fail", Severity: "low", Time: at, IntegrationID: 1, GroupKey: "actor.alternateId=alice@example.com",
			Body: []byte(`{"finding_info":{"uid":"a1","title":"MFA failures"}}`)},
		{ID: "a2", RuleID: "push-fatigue", Severity: "high", Time: at.Add(time.Minute), IntegrationID: 1, GroupKey: "actor.alternateId=alice@example.com",
			Body: []byte(`{"finding_info":{"uid":"a2","title":"Push fatigue"}}`)},
	}
	if _, err := st.AppendAlerts(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	var in []incident.Alert
	for _, a := range alerts {
		in = append(in, incident.Alert{ID: a.ID, Scope: "1", RuleID: a.RuleID, Severity: a.Severity, Time: a.Time, GroupKey: a.GroupKey,
			Tactics: []string{"attack.credential-access"}})
	}
	incs, err := incident.Group(in, incident.Config{})
	if err != nil || len(incs) != 1 {
		t.Fatalf("group: %v %v", incs, err)
	}
	g := incs[0]
	detail, _ := json.Marshal(g)
	if err := st.SaveIncidents(context.Background(), "idwatch", []store.Incident{{ID: g.ID, Entity: string(g.Entity), Risk: g.Risk,
		Severity: g.Severity, FirstAlert: g.First, LastAlert: g.Last, Alerts: g.Alerts, Detail: detail}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, g.ID
}

func TestIncidentsCommands(t *testing.T) {
	dir, id := incidentDataDir(t)
	dd := "--data-dir=" + dir

	code, out, errOut := runCLI(t, "", "incidents", "list", dd)
	if code != 0 || !strings.Contains(out, "ID") || !strings.Contains(out, id) || !strings.Contains(out, "user:alice@example.com") ||
		!strings.Contains(out, "new") {
		t.Fatalf("list: code %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "", "incidents", "show", id, dd)
	for _, want := range []string{"Incident " + id, "risk:      ", "reached credential-access", "Push fatigue", "MFA failures",
		"stage 16 (credential-access)", "History", "created"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("show lacks %q: code %d\n%s%s", want, code, out, errOut)
		}
	}
	code, out, errOut = runCLI(t, "", "incidents", "update", id, "--status", "in_progress", "--assignee", "ana", "--note", "calling alice", "--by", "lead", dd)
	if code != 0 || !strings.Contains(out, "in_progress, assignee ana") {
		t.Fatalf("update: code %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", "incidents", "show", dd, "--json", id)
	var got store.Incident
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.Status != store.IncidentInProgress || got.Assignee != "ana" ||
		got.History[len(got.History)-1].Text != "calling alice" || got.History[len(got.History)-1].By != "lead" {
		t.Fatalf("show --json after update: %s", out)
	}
	code, out, _ = runCLI(t, "", "incidents", "list", dd, "--status", "resolved")
	if code != 0 || out != "" {
		t.Fatalf("list resolved: code %d %q", code, out)
	}
	code, _, errOut = runCLI(t, "", "incidents", "update", id, "--status", "resolved", dd)
	if code != 0 || !strings.Contains(errOut, "resolved too") {
		t.Fatalf("resolve: code %d %s", code, errOut)
	}
	// Closing the incident resolved its alerts, each with the incident named in its history.
	code, out, _ = runCLI(t, "", "alerts", "list", dd, "--status", "new")
	if code != 0 || out != "" {
		t.Fatalf("alerts still new after the incident was resolved: %q", out)
	}
	code, out, _ = runCLI(t, "", "alerts", "list", dd, "--status", "resolved", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != len(got.Alerts) {
		t.Fatalf("resolved alerts: %d lines for %d alerts: %s", len(lines), len(got.Alerts), out)
	}
	code, out, _ = runCLI(t, "", "alerts", "show", got.Alerts[0], dd)
	if code != 0 || !strings.Contains(out, "new → resolved") || !strings.Contains(out, "incident "+id+" closed as resolved") {
		t.Fatalf("alert history after the incident closed: %s", out)
	}

	for _, bad := range [][]string{
		{"incidents", "update", id, "--status", "closed", dd},
		{"incidents", "update", id, dd},
		{"incidents", "show", dd},
		{"incidents", "show", "inc-nope", dd},
		{"incidents", "list", "--status", "open", dd},
		{"incidents", "frobnicate"},
	} {
		if code, _, errOut := runCLI(t, "", bad...); code == 0 || errOut == "" {
			t.Errorf("%v: code %d, stderr %q", bad, code, errOut)
		}
	}
}
