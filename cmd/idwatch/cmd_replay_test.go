package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/process"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// recordRule is a user rule on normalized auth records: it can fire only where the rules run on
// each event's records, not on the raw event alone.
const recordRule = `title: Failed Sign-In From a Watched Network (Records)
id: 4f1d7a52-9a0e-4c53-8d0e-2b6f3c1a9e77
status: experimental
logsource:
    category: auth
detection:
    selection:
        status_id: 2
        src_endpoint.ip|cidr: 203.0.113.0/24
    condition: selection
level: high
`

// recordRuleID is recordRule's id.
const recordRuleID = "4f1d7a52-9a0e-4c53-8d0e-2b6f3c1a9e77"

// builtinRecordRuleID is the built-in correlation on auth records (twenty failed
// authentications for one user within an hour).
const builtinRecordRuleID = "d794e76b-c5f8-4e84-a300-3e82bb9f8e04"

// TestReplayRunsRecordRulesOnRawExport: replay of a raw export runs the rules on each event's
// normalized records too, so a user rule and a built-in correlation on auth records fire, and
// the alert ids are exactly those the processor stores for the same journal (received out of
// order).
func TestReplayRunsRecordRulesOnRawExport(t *testing.T) {
	ctx := context.Background()
	dir, rulesDir := t.TempDir(), t.TempDir()
	write(t, rulesDir, "watched_network.yml", recordRule)
	st, err := sqlite.OpenDataDir(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
	signIn := func(i int, result string) store.Event {
		uuid, at := fmt.Sprintf("ev-%02d", i), t0.Add(time.Duration(i)*time.Minute)
		raw := fmt.Sprintf(`{"uuid":%q,"published":%q,"eventType":"user.session.start",`+
			`"actor":{"id":"00u1","type":"User","alternateId":"alice@example.com","displayName":"Alice"},`+
			`"outcome":{"result":%q,"reason":"INVALID_CREDENTIALS"},"client":{"ipAddress":"203.0.113.5"}}`,
			uuid, at.Format(time.RFC3339), result)
		return store.Event{UUID: uuid, Published: at, EventType: "user.session.start", Raw: []byte(raw)}
	}
	var page []store.Event
	for i := range 21 {
		page = append(page, signIn(i, "FAILURE"))
	}
	// Received out of order: the last one first, as a backfill behind live collection has it.
	slices.Reverse(page)
	if _, err := st.AppendPage(ctx, 1, page, nil); err != nil {
		t.Fatal(err)
	}
	p, err := process.New(ctx, process.Config{Store: st, RulesDir: rulesDir,
		Clock: func() time.Time { return t0.Add(2 * time.Hour) }, IdleDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.ProcessAvailable(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	stored := storedAlertIDs(t, dir)

	code, export, errOut := runCLI(t, "", "events", "export", "--data-dir="+dir, "--sort", "published")
	if code != 0 {
		t.Fatalf("export: %d %s", code, errOut)
	}
	// replay runs the built-in rules, or with --rules only those of DIR; the processor runs both.
	code, out, errOut := runCLI(t, export, "replay", "-")
	if code != 0 {
		t.Fatalf("replay: %d %s", code, errOut)
	}
	builtin, builtinRules := findingIDs(t, out)
	if n := builtinRules[builtinRecordRuleID]; n != 1 {
		t.Errorf("the built-in correlation on auth records fired %d times, want 1: %v", n, builtinRules)
	}
	code, out, errOut = runCLI(t, export, "replay", "--rules", rulesDir, "-")
	if code != 0 {
		t.Fatalf("replay --rules: %d %s", code, errOut)
	}
	user, userRules := findingIDs(t, out)
	if n := userRules[recordRuleID]; n != 21 || len(userRules) != 1 {
		t.Errorf("the user rule on auth records fired %d times, want once per failed sign-in (21): %v", n, userRules)
	}
	replayed := slices.Sorted(slices.Values(append(builtin, user...)))
	if !slices.Equal(replayed, stored) {
		t.Errorf("replay of the time-sorted export raised %d alerts, the processor stored %d:\nreplay %v\nstored %v", len(replayed), len(stored), replayed, stored)
	}
}

// findingIDs returns the sorted alert ids of replay's findings and how many each rule raised.
func findingIDs(t *testing.T, out string) ([]string, map[string]int) {
	t.Helper()
	var ids []string
	rules := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var f struct {
			FindingInfo struct {
				UID      string `json:"uid"`
				Analytic struct {
					UID string `json:"uid"`
				} `json:"analytic"`
			} `json:"finding_info"`
		}
		if err := json.Unmarshal([]byte(l), &f); err != nil || f.FindingInfo.UID == "" {
			t.Fatalf("finding %.300q: %v", l, err)
		}
		ids = append(ids, f.FindingInfo.UID)
		rules[f.FindingInfo.Analytic.UID]++
	}
	slices.Sort(ids)
	return ids, rules
}

// TestReplayNamesWhatItCannotEvaluate: an event without a readable time is named with the inputs
// the engine refused and counted as skipped; an event with a field that cannot be read is named
// and still evaluated, as the processor keeps it.
func TestReplayNamesWhatItCannotEvaluate(t *testing.T) {
	in := `{"uuid":"no-time","eventType":"user.session.start","actor":{"alternateId":"a@example.com"}}
{"uuid":"flawed","published":"2025-01-01T00:00:00Z","eventType":"system.log_stream.lifecycle.delete","actor":{"alternateId":{"x":1}}}
`
	code, out, errOut := runCLI(t, in, "replay", "-")
	for _, want := range []string{
		`line 1: not evaluated as the raw event, its auth record: detect: event has no readable time`,
		`line 2: event "flawed" kept with a field it could not read (in unmapped.unreadable_fields): actor.alternateId`,
		"1 of 2 input lines were skipped",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if _, rules := findingIDs(t, out); code != 1 || rules["ff146bb0-3a89-41cb-bb58-b42fcfd3a63e"] != 1 {
		t.Errorf("exit %d, findings %v: want exit 1 and the log stream rule on the flawed event", code, rules)
	}
}
