package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

func TestAlertsList(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.OpenDataDir(context.Background(), dir, sqlite.Options{Keys: sqlite.KeyStore})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	alert := func(id, title string, ago time.Duration) store.Alert {
		return store.Alert{ID: id, RuleID: "rule-" + id, Severity: "high", Time: now.Add(-ago), IntegrationID: 1, GroupKey: "user=u1",
			Body: []byte(`{"class_uid":2004,"finding_info":{"uid":"` + id + `","title":"` + title + `"}}`)}
	}
	if _, err := st.CreateIntegration(context.Background(), store.Integration{Name: "acme", OrgURL: "https://acme.okta.com", AuthKind: store.AuthAPIToken,
		Enabled: true, Credentials: store.Credentials{APIToken: secret.New("secret-token")}}); err != nil {
		t.Fatal(err)
	}
	gone := alert("gone", "Orphan", 4*time.Hour)
	gone.IntegrationID, gone.GroupKey = 7, ""
	gone.Body = []byte(`{"finding_info":{"uid":"gone","title":"Orphan finding","analytic":{"name":"Orphan rule"}}}`)
	if _, err := st.AppendAlerts(context.Background(), []store.Alert{alert("old", "Old finding", 3*time.Hour), alert("new", "Push fatigue", time.Hour), gone}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	dd := "--data-dir=" + dir

	code, out, errOut := runCLI(t, "", "alerts", "list", dd)
	ts := func(ago time.Duration) string { return now.Add(-ago).Format(time.RFC3339) }
	want := "TIME                  SEVERITY  STATUS  INTEGRATION  RULE          RULE ID    GROUP    ID\n" +
		ts(time.Hour) + "  high      new     acme         Push fatigue  rule-new   user=u1  new\n" +
		ts(3*time.Hour) + "  high      new     acme         Old finding   rule-old   user=u1  old\n" +
		ts(4*time.Hour) + "  high      new     7 (removed)  Orphan rule   rule-gone  -        gone\n"
	if code != 0 || out != want {
		t.Fatalf("table: code %d\n%s\nwant\n%s%s", code, out, want, errOut)
	}
	code, out, _ = runCLI(t, "", "alerts", "list", dd, "--json", "--limit", "1")
	var row map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &row) != nil || row["integrationName"] != "acme" || row["ruleTitle"] != "Push fatigue" ||
		row["integrationId"] != 1.0 || row["ruleId"] != "rule-new" || row["body"] == nil {
		t.Fatalf("--json row: %q", out)
	}
	code, out, errOut = runCLI(t, "", "alerts", "list", dd, "--since", "2h", "--json")
	if code != 0 {
		t.Fatalf("json: code %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var got store.Alert
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &got) != nil || got.ID != "new" || got.RuleID != "rule-new" {
		t.Fatalf("--since 2h --json: %q", out)
	}
	code, out, _ = runCLI(t, "", "alerts", "list", dd, "--since", now.Add(time.Minute).Format(time.RFC3339))
	if code != 0 || out != "" {
		t.Fatalf("future --since: code %d out %q", code, out)
	}
	for _, bad := range [][]string{{"alerts"}, {"alerts", "show"}, {"alerts", "list", dd, "--since", "yesterday"}, {"alerts", "list", dd, "--limit", "0"}} {
		if code, _, errOut := runCLI(t, "", bad...); code != 2 || errOut == "" {
			t.Errorf("%v: code %d, stderr %q", bad, code, errOut)
		}
	}
}
