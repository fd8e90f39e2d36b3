package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/oktasim"
)

// TestCollectionCommands drives integrations add/list/enable/disable/remove, verify, collect
// --once, backfill and events export against an oktasim org on 127.0.0.1.
func TestCollectionCommands(t *testing.T) {
	limits := oktasim.DefaultRateLimits()
	limits.Disabled = true
	srv, err := oktasim.New(oktasim.Config{RateLimits: limits})
	if err != nil {
		t.Fatal(err)
	}
	_, tok := srv.Tokens().Add(oktasim.APIToken{Name: "cli", AdminID: "00uadmin", Roles: []oktasim.Role{oktasim.RoleReadOnlyAdmin}})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	now := time.Now()
	for i := range 40 {
		raw := fmt.Sprintf(`{"uuid":"00000000-0000-4000-8000-%012d","published":%q,"eventType":"user.session.start","version":"0","severity":"INFO"}`,
			i, now.Add(-time.Duration(90-i)*time.Minute).UTC().Format(time.RFC3339Nano))
		if _, err := srv.AppendRaw([]byte(raw), 0); err != nil {
			t.Fatal(err)
		}
	}
	threat := fmt.Sprintf(`{"uuid":"00000000-0000-4000-8000-999999999999","published":%q,"eventType":"security.threat.detected","version":"0","severity":"WARN",`+
		`"actor":{"id":"unknown","type":"User","alternateId":"unknown"},"client":{"ipAddress":"203.0.113.9"},"outcome":{"result":"DENY","reason":"Password Spray"}}`,
		now.Add(-60*time.Minute).UTC().Format(time.RFC3339Nano))
	if _, err := srv.AppendRaw([]byte(threat), 0); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokFile, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dd := "--data-dir=" + filepath.Join(dir, "data")

	code, out, errOut := runCLI(t, "", "integrations", "add", dd, "--name", "acme", "--org-url", ts.URL, "--api-token-file", tokFile)
	if code != 0 || !strings.Contains(out, "enabled") || !strings.Contains(out, "OK    System Log access") {
		t.Fatalf("add: %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "master.key")); err != nil {
		t.Fatalf("master key file: %v", err)
	}
	code, out, errOut = runCLI(t, "", "collect", dd, "--once")
	if code != 0 || !strings.Contains(out, "acme") || !strings.Contains(out, "collecting") {
		t.Fatalf("collect --once: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "", "alerts", "list", dd, "--json")
	if code != 0 || !strings.Contains(out, "ThreatInsight") {
		t.Fatalf("collect --once did not process the ThreatInsight event into an alert: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", "events", "export", dd)
	if code != 0 || strings.Count(out, "\n") != 41 {
		t.Fatalf("export after collect: %d lines", strings.Count(out, "\n"))
	}
	code, out, errOut = runCLI(t, "", "backfill", dd, "--integration", "acme", "--since", "2h")
	if code != 0 || !strings.Contains(out, "0 new events, 41 already held") {
		t.Fatalf("backfill: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", "events", "export", dd, "--integration", "acme", "--since", "81m")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 31 || !json.Valid([]byte(lines[0])) {
		t.Fatalf("export --since: %d, %d lines", code, len(lines))
	}
	checkOCSFExport(t, dd, now)
	code, out, _ = runCLI(t, "", "integrations", "list", dd, "--json")
	if code != 0 || strings.Contains(out, tok) || !strings.Contains(out, `"eventsCollected": 41`) {
		t.Fatalf("list: %d\n%s", code, out)
	}
	if code, out, _ = runCLI(t, "", "verify", dd, "--integration", "acme"); code != 0 || !strings.Contains(out, "RESULT") {
		t.Fatalf("verify: %d\n%s", code, out)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("00not-a-token"), 0o600)
	code, out, _ = runCLI(t, "", "verify", "--org-url", ts.URL, "--api-token-file", bad, "--json")
	if code != 1 || !strings.Contains(out, `"canCollectLogs": false`) {
		t.Fatalf("verify bad token: %d\n%s", code, out)
	}
	for _, verb := range []string{"disable", "enable", "remove"} {
		if code, out, errOut = runCLI(t, "", "integrations", verb, "acme", dd); code != 0 {
			t.Fatalf("%s: %d %s %s", verb, code, out, errOut)
		}
	}
	if code, out, _ = runCLI(t, "", "integrations", "list", dd); code != 0 || strings.Contains(out, "acme") {
		t.Fatalf("list after remove: %s", out)
	}
	if code, _, errOut = runCLI(t, "", "backfill", dd, "--integration", "acme", "--since", "soon"); code != 2 {
		t.Fatalf("bad time: %d %s", code, errOut)
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"90m": now.Add(-90 * time.Minute), "7d": now.Add(-7 * 24 * time.Hour), "1.5d": now.Add(-36 * time.Hour),
		"2026-03-01T00:00:00Z": time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := parseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Fatalf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-5m", "yesterday", "5x"} {
		if _, err := parseTime(in, now); err == nil {
			t.Fatalf("%q accepted", in)
		}
	}
}

// FuzzParseTime: any input is accepted as a time or refused as a usage error, never a panic.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"90m", "7d", "2026-03-01T00:00:00Z", "-1d", "1e308d", "NaNd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := parseTime(s, time.Now()); err != nil && !errors.Is(err, errUsage) {
			t.Fatalf("%q: %v is not a usage error", s, err)
		}
	})
}

// checkOCSFExport exports the collected user.session.start events as OCSF: one Authentication
// record each, tenant_uid the integration id, logged_time when the collector stored the event
// (after the test started), the raw event kept in raw_data.
func checkOCSFExport(t *testing.T, dd string, start time.Time) {
	t.Helper()
	code, out, errOut := runCLI(t, "", "events", "export", dd, "--integration", "acme", "--format", "ocsf", "--since", "81m")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 31 {
		t.Fatalf("export --format ocsf: %d, %d lines\n%s", code, len(lines), errOut)
	}
	code, out, _ = runCLI(t, "", "integrations", "list", dd, "--json")
	var ins []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(out), &ins); code != 0 || err != nil || len(ins) != 1 {
		t.Fatalf("list --json: %d %v\n%s", code, err, out)
	}
	for _, l := range lines {
		var rec struct {
			ClassUID int64 `json:"class_uid"`
			Metadata struct {
				TenantUID  string `json:"tenant_uid"`
				LoggedTime int64  `json:"logged_time"`
				EventCode  string `json:"event_code"`
			} `json:"metadata"`
			RawData string `json:"raw_data"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("record is not JSON: %v\n%s", err, l)
		}
		m := rec.Metadata
		if m.EventCode == "security.threat.detected" {
			// ThreatInsight's own finding maps to Detection Finding.
			if rec.ClassUID != 2004 || m.TenantUID != fmt.Sprint(ins[0].ID) {
				t.Fatalf("export --format ocsf record: %+v\n%s", rec, l)
			}
			continue
		}
		if rec.ClassUID != 3002 || m.EventCode != "user.session.start" || m.TenantUID != fmt.Sprint(ins[0].ID) ||
			m.LoggedTime < start.Add(-time.Second).UnixMilli() || !strings.Contains(rec.RawData, `"eventType":"user.session.start"`) {
			t.Fatalf("export --format ocsf record: %+v\n%s", rec, l)
		}
	}
	if code, _, errOut = runCLI(t, "", "events", "export", dd, "--format", "csv"); code != 2 || !strings.Contains(errOut, "raw or ocsf") {
		t.Fatalf("export --format csv: %d\n%s", code, errOut)
	}
}
