package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesTestBuiltins(t *testing.T) {
	code, out, errOut := runCLI(t, "", "rules", "test")
	if code != 0 || !strings.Contains(out, " passed, 0 failed") {
		t.Fatalf("code %d\n%s\n%s", code, out, errOut)
	}
}

func TestRulesTestFailsOnBadDir(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.yml", "title: a\nlogsource: {product: okta}\ndetection: {s: {eventType: x}, condition: s}\n")
	write(t, dir, "a.tests.yml", "tests:\n  - {name: miss, expect: alert, events: [{eventType: y}]}\n  - {name: ok, expect: none, events: [{eventType: y}]}\n")
	code, out, _ := runCLI(t, "", "rules", "test", dir)
	if code != 1 || !strings.Contains(out, "FAIL a.yml: miss: expected an alert, got none") || !strings.Contains(out, "1 passed, 1 failed") {
		t.Fatalf("code %d\n%s", code, out)
	}
}

func TestRulesLint(t *testing.T) {
	dir := t.TempDir()
	good := write(t, dir, "good.yml", "title: a\nlogsource: {product: okta}\ndetection: {s: {eventType: x}, condition: s}\n")
	bad := write(t, dir, "bad.yml", "title: b\nlogsource: {product: okta}\ndetection:\n    s:\n        eventType|startswit: x\n    condition: s\n")
	if code, out, _ := runCLI(t, "", "rules", "lint", good); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("good: %d %s", code, out)
	}
	code, _, errOut := runCLI(t, "", "rules", "lint", good, bad)
	if code != 1 || !strings.Contains(errOut, "bad.yml:5: eventType|startswit: unknown modifier") {
		t.Fatalf("bad: %d %s", code, errOut)
	}
	tf := write(t, dir, "good.tests.yml", "tests:\n  - {expect: maybe, events: []}\n")
	if code, _, errOut := runCLI(t, "", "rules", "lint", good, tf); code != 1 || !strings.Contains(errOut, "expect must be alert or none") {
		t.Fatalf("bad test file: %d %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "", "rules", "lint"); code != 2 {
		t.Fatalf("no files: %d", code)
	}
}

func TestRulesList(t *testing.T) {
	code, out, _ := runCLI(t, "", "rules", "list", "--json")
	if code != 0 {
		t.Fatal(code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 15 {
		t.Fatalf("%d rules listed", len(lines))
	}
	var r ruleInfo
	if err := json.Unmarshal([]byte(lines[0]), &r); err != nil || r.ID == "" || !r.Alerts {
		t.Fatalf("%v %+v", err, r)
	}
}

func TestReplayPrintsFindings(t *testing.T) {
	dir := t.TempDir()
	events := `{"uuid":"e1","published":"2025-01-01T00:00:00Z","eventType":"system.log_stream.lifecycle.delete","actor":{"alternateId":"a@example.com"}}
not json
{"uuid":"e2","published":"2025-01-01T00:00:01Z","eventType":"user.session.start"}
`
	f := write(t, dir, "events.jsonl", events)
	code, out, errOut := runCLI(t, "", "replay", f)
	if code != 1 || !strings.Contains(errOut, "idwatch replay: line 2: ") || !strings.Contains(errOut, "1 of 3 input lines were skipped") {
		t.Fatalf("code %d, want 1 for the line that is not JSON, named on stderr:\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("want 1 finding, got:\n%s", out)
	}
	var fnd map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &fnd); err != nil {
		t.Fatal(err)
	}
	info := fnd["finding_info"].(map[string]any)
	if fnd["class_uid"] != float64(2004) || info["title"] != "Okta Log Stream Changed or Removed" {
		t.Fatalf("%v", fnd)
	}
	// Same input through stdin gives the same alert id.
	_, out2, _ := runCLI(t, events, "replay", "-")
	if out2 != out {
		t.Fatalf("replay is not deterministic:\n%s\n%s", out, out2)
	}
}

func write(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
