package main

import (
	"strings"
	"testing"
)

const (
	logStreamRule = "title: log stream deleted\nid: ls\nlogsource: {product: okta}\ndetection: {s: {eventType: system.log_stream.lifecycle.delete}, condition: s}\nlevel: high\n"
	brokenRule    = "title: broken\nlogsource: {product: okta}\ndetection:\n    s:\n        eventType|contians: x\n    condition: s\n"
	impRule       = "title: impersonation by an outsider\nid: imp\nlogsource: {product: okta}\ndetection:\n    s:\n        eventType: user.session.impersonation.grant\n    f:\n        actor.alternateId|contains|expand: '%trusted_domains%'\n    condition: s and not f\nlevel: medium\n"
	replayEvents  = `{"uuid":"e1","published":"2025-01-01T00:00:00Z","eventType":"system.log_stream.lifecycle.delete","actor":{"alternateId":"a@example.com"}}
{"uuid":"e2","published":"2025-01-01T00:00:01Z","eventType":"user.session.impersonation.grant","actor":{"alternateId":"ann@example.com"}}
{"uuid":"e3","published":"2025-01-01T00:00:02Z","eventType":"user.session.impersonation.grant","actor":{"alternateId":"eve@evil.test"}}
`
)

// ruleIDs lists the analytic uids of replay's findings, in order.
func ruleIDs(out string) string {
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if i := strings.Index(l, `"type":"Rule","type_id":1,"uid":"`); i >= 0 {
			rest := l[i+len(`"type":"Rule","type_id":1,"uid":"`):]
			ids = append(ids, rest[:strings.IndexByte(rest, '"')])
		}
	}
	return strings.Join(ids, ",")
}

func TestReplaySkipsABrokenRule(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "logstream.yml", logStreamRule)
	write(t, dir, "broken.yml", brokenRule)
	events := write(t, t.TempDir(), "events.jsonl", replayEvents)
	code, out, errOut := runCLI(t, "", "replay", "--rules", dir, events)
	if code != 0 || ruleIDs(out) != "ls" {
		t.Fatalf("code %d, findings %q\n%s", code, ruleIDs(out), errOut)
	}
	if !strings.Contains(errOut, "broken.yml:5: eventType|contians: unknown modifier") || !strings.Contains(errOut, "left out, the other 1 rules run") {
		t.Fatalf("the broken rule is not named:\n%s", errOut)
	}
	code, out, errOut = runCLI(t, "", "replay", "--rules", dir, "--strict", events)
	if code != 1 || out != "" || !strings.Contains(errOut, "broken.yml:5") {
		t.Fatalf("--strict: code %d\n%s\n%s", code, out, errOut)
	}
}

func TestReplayPlaceholders(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "imp.yml", impRule)
	events := write(t, t.TempDir(), "events.jsonl", replayEvents)
	// Undefined: the rule is left out, naming the placeholder and where to define it.
	code, out, errOut := runCLI(t, "", "replay", "--rules", dir, events)
	if code != 0 || out != "" || !strings.Contains(errOut, "imp.yml:8: actor.alternateId|contains|expand: placeholder %trusted_domains% is not defined; define it in "+dir) {
		t.Fatalf("undefined: code %d\n%s\n%s", code, out, errOut)
	}
	// From the serve configuration's placeholders section.
	cfg := write(t, t.TempDir(), "idwatch.yml", "placeholders:\n  trusted_domains: ['@example.com']\n")
	code, out, errOut = runCLI(t, "", "replay", "--rules", dir, "--config", cfg, "--strict", events)
	if code != 0 || ruleIDs(out) != "imp" || !strings.Contains(out, `"uid":"e3"`) {
		t.Fatalf("config map: code %d %q\n%s\n%s", code, ruleIDs(out), out, errOut)
	}
	// From the rules folder's placeholders.yml.
	write(t, dir, "placeholders.yml", "placeholders:\n  trusted_domains: '@example.com'\n")
	code, out, errOut = runCLI(t, "", "replay", "--rules", dir, "--strict", events)
	if code != 0 || ruleIDs(out) != "imp" {
		t.Fatalf("folder file: code %d %q\n%s", code, ruleIDs(out), errOut)
	}
}

func TestRulesLintFolders(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "logstream.yml", logStreamRule)
	write(t, dir, "logstream.tests.yml", "tests:\n  - {name: a, expect: alert, events: [{eventType: system.log_stream.lifecycle.delete}]}\n  - {name: b, expect: none, events: [{eventType: x}]}\n")
	write(t, dir, "imp.yml", impRule)
	write(t, dir, "placeholders.yml", "placeholders:\n  trusted_domains: '@example.com'\n")
	code, out, errOut := runCLI(t, "", "rules", "lint", dir)
	if code != 0 || !strings.Contains(out, "2 rule files (2 rules), 1 test files: ok") {
		t.Fatalf("good folder: %d %s %s", code, out, errOut)
	}
	other := t.TempDir()
	write(t, other, "broken.yml", brokenRule)
	write(t, other, "broken2.yml", strings.Replace(brokenRule, "contians", "startswit", 1))
	code, _, errOut = runCLI(t, "", "rules", "lint", dir, other)
	if code != 1 || !strings.Contains(errOut, "broken.yml:5") || !strings.Contains(errOut, "broken2.yml:5") {
		t.Fatalf("every problem of every folder: %d\n%s", code, errOut)
	}
	// A rule file alone lacks its folder's placeholders; giving the placeholders file helps.
	if code, _, errOut := runCLI(t, "", "rules", "lint", dir+"/imp.yml"); code != 1 || !strings.Contains(errOut, "%trusted_domains% is not defined") {
		t.Fatalf("file alone: %d %s", code, errOut)
	}
	if code, out, errOut := runCLI(t, "", "rules", "lint", dir+"/imp.yml", dir+"/placeholders.yml"); code != 0 {
		t.Fatalf("file with placeholders: %d %s %s", code, out, errOut)
	}
}

func TestRulesTestReportsABrokenRuleAndRunsTheOthers(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "logstream.yml", logStreamRule)
	write(t, dir, "logstream.tests.yml", "tests:\n  - {name: a, expect: alert, events: [{eventType: system.log_stream.lifecycle.delete}]}\n  - {name: b, expect: none, events: [{eventType: x}]}\n")
	write(t, dir, "broken.yml", brokenRule)
	code, out, _ := runCLI(t, "", "rules", "test", dir)
	if code != 1 || !strings.Contains(out, "FAIL broken.yml: does not load: broken.yml:5") || !strings.Contains(out, "2 passed, 1 failed") {
		t.Fatalf("code %d\n%s", code, out)
	}
}
