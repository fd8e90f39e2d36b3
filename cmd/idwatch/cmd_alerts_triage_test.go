package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/search"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

func TestAlertsTriage(t *testing.T) {
	dd := searchFixture(t) // events ev-0 … ev-4
	dir := strings.TrimPrefix(dd, "--data-dir=")
	st, err := sqlite.OpenDataDir(context.Background(), dir, sqlite.Options{Keys: sqlite.KeyRead})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	body := `{"class_uid":2004,"finding_info":{"uid":"al-1","title":"Push fatigue","analytic":{"name":"MFA push fatigue"},` +
		`"related_events":[{"uid":"ev-1"},{"uid":"ev-0"},{"uid":"ev-trimmed"}],` +
		`"attacks":[{"technique":{"uid":"T1621"},"tactic":{"uid":"TA0006","name":"Credential Access"},"tactics":[{"uid":"TA0006","name":"Credential Access"}]}]},` +
		`"unmapped":{"entities":["user:alice@acme.example"]}}`
	if _, err := st.AppendAlerts(context.Background(), []store.Alert{
		{ID: "al-1", RuleID: "okta_mfa_push_fatigue", Severity: "high", Time: now.Add(-time.Hour), IntegrationID: 1, Body: []byte(body)},
		{ID: "al-2", RuleID: "okta_password_spray", Severity: "medium", Time: now.Add(-2 * time.Hour), IntegrationID: 1,
			Body: []byte(`{"finding_info":{"uid":"al-2","title":"Spray"},"unmapped":{"entities":["ip:198.51.100.7"]}}`)},
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	code, out, errOut := runCLI(t, "", "alerts", "ack", "al-1", "--note", "calling alice", "--by", "ana", dd)
	if code != 0 || out != "alert al-1: acknowledged\n" {
		t.Fatalf("ack: code %d %q %s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "", "alerts", "suppress", "al-2", dd, "--reason", "scanner we run", "--until", "7d", "--by", "lead")
	if code != 0 || out != "alert al-2: suppressed\n" {
		t.Fatalf("suppress: code %d %q %s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", "alerts", "list", dd, "--status", "suppressed,acknowledged", "--json")
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"reason":"scanner we run"`) {
		t.Fatalf("list by status: %s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--severity", "high"}, "al-1"},
		{[]string{"--rule", "okta_password_spray"}, "al-2"},
		{[]string{"--identity", "Alice@acme.example"}, "al-1"},
		{[]string{"--status", "new"}, ""},
	} {
		code, out, errOut := runCLI(t, "", append([]string{"alerts", "list", dd}, c.args...)...)
		if code != 0 || (c.want != "" && !strings.Contains(out, c.want)) || (c.want == "" && out != "") || strings.Count(out, "al-") > 1 {
			t.Errorf("%v: code %d\n%s%s", c.args, code, out, errOut)
		}
	}

	// show: status, ATT&CK, evidence (one trimmed), history.
	code, out, errOut = runCLI(t, "", "alerts", "show", "al-1", dd)
	for _, want := range []string{"alert al-1", "MFA push fatigue", "status:      acknowledged", "T1621  TA0006 Credential Access",
		"evidence (3 events, 1 no longer in the journal)", "user.authentication.auth_via_mfa", "ev-0", "ana  new → acknowledged", `"calling alice"`} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("show lacks %q: code %d\n%s%s", want, code, out, errOut)
		}
	}
	code, out, _ = runCLI(t, "", "alerts", "show", dd, "al-1", "--json")
	var d search.AlertDetail
	if code != 0 || json.Unmarshal([]byte(out), &d) != nil || len(d.Evidence) != 2 || d.Evidence[0].UUID != "ev-1" ||
		len(d.Evidence[0].OCSF) == 0 || len(d.Evidence[0].Raw) == 0 || len(d.Attacks) != 1 || d.Missing[0] != "ev-trimmed" || len(d.History) != 1 {
		t.Fatalf("show --json: %s", out)
	}

	code, _, _ = runCLI(t, "", "alerts", "resolve", "al-1", "al-2", dd, "--by", "ana")
	if code != 0 {
		t.Fatal("resolve two")
	}
	code, out, _ = runCLI(t, "", "alerts", "list", dd, "--status", "resolved")
	if code != 0 || strings.Count(out, "resolved") != 2 {
		t.Fatalf("resolved: %s", out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"alerts", "suppress", "al-1", dd}, "--reason"},
		{[]string{"alerts", "ack", dd}, "alert id"},
		{[]string{"alerts", "show", "al-1", "al-2", dd}, "one alert id"},
		{[]string{"alerts", "ack", "nope", dd}, "nope"},
		{[]string{"alerts", "suppress", "al-1", "--reason", "x", "--until", "soon", dd}, "--until"},
		{[]string{"alerts", "list", "--status", "open", dd}, "not one of"},
		{[]string{"alerts", "list", "--cursor", "zzz", dd}, "cursor"},
		{[]string{"alerts", "frobnicate"}, "unknown subcommand"},
	} {
		code, _, errOut := runCLI(t, "", c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: code %d, stderr %q (want %q)", c.args, code, errOut, c.want)
		}
	}
}
