package process

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// markerRules is a user rule file: a first_seen correlation over a made-up event type, so the
// built-in rules stay quiet on the test's events.
const markerRules = `title: Marker from a new address
id: 0b6f3c1e-5a2d-4c8e-9f10-2a3b4c5d6e7f
level: high
correlation:
    type: first_seen
    rules: [marker]
    group-by: [actor.alternateId]
    field: client.ipAddress
    timespan: 365d
---
title: Marker event
name: marker
logsource:
    product: okta
detection:
    selection:
        eventType: idwatch.test.marker
    condition: selection
`

// writeRules writes files (name → content) into a new rules directory.
func writeRules(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestUserRulesDirectory(t *testing.T) {
	bad := "title: Broken\nlogsource:\n    product: okta\ndetection:\n    selection:\n        eventType|nosuchmodifier: x\n    condition: selection\n"
	dir := writeRules(t, map[string]string{"marker.yml": markerRules, "broken.yml": bad})
	s := openStore(t, t.TempDir(), nil)
	_, err := New(t.Context(), Config{Store: s, RulesDir: dir})
	want := filepath.Join(dir, "broken.yml") + ":6"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("a broken user rule: got %v, want an error naming %s", err, want)
	}
	p, err := New(t.Context(), Config{Store: s, RulesDir: dir, SkipBadRules: true})
	if err != nil {
		t.Fatal(err)
	}
	if w := p.Warnings(); len(w) != 1 || !strings.Contains(w[0], want) {
		t.Fatalf("warnings %q", w)
	}
	found := false
	for _, r := range p.Ruleset().Rules() {
		found = found || r.Title == "Marker from a new address"
	}
	if !found {
		t.Fatal("the good user rule was not loaded next to the broken one")
	}
	// A user rule may not take a built-in rule's id; skipping blames the user file.
	clash := strings.Replace(markerRules, "0b6f3c1e-5a2d-4c8e-9f10-2a3b4c5d6e7f", "a156569c-8b38-44d1-8ef4-8c4daaf92511", 1)
	p, err = New(t.Context(), Config{Store: s, RulesDir: writeRules(t, map[string]string{"clash.yml": clash}), SkipBadRules: true})
	if err != nil || len(p.Warnings()) != 1 || !strings.Contains(p.Warnings()[0], "clash.yml") {
		t.Fatalf("clashing id: %v %q", err, p.Warnings())
	}
	if _, err := New(t.Context(), Config{Store: s, RulesDir: filepath.Join(dir, "missing")}); err == nil {
		t.Fatal("a missing rules directory was accepted")
	}
}

// markerEvent is one raw event of the marker rule.
func markerEvent(t *testing.T, n int, at time.Time, ip string) store.Event {
	t.Helper()
	uuid := fmt.Sprintf("marker-%d", n)
	raw, err := json.Marshal(map[string]any{"uuid": uuid, "published": at.Format(time.RFC3339Nano), "eventType": "idwatch.test.marker",
		"actor": map[string]any{"alternateId": "alice@example.com", "type": "User"}, "client": map[string]any{"ipAddress": ip},
		"outcome": map[string]any{"result": "SUCCESS"}})
	if err != nil {
		t.Fatal(err)
	}
	return store.Event{UUID: uuid, Published: at, EventType: "idwatch.test.marker", Raw: raw}
}

// TestBaselineSurvivesRestart learns an address, restarts the processor far beyond the replay
// span, and sees the new address alert and the known one not: without the stored baseline,
// alice would be a new group whose first address forms its baseline silently and whose second
// (the known one) alerts.
func TestBaselineSurvivesRestart(t *testing.T) {
	rules := writeRules(t, map[string]string{"marker.yml": markerRules})
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	// Alice's address is learnt; another event 20 days later moves the processor's time on, so a
	// restart replays nothing of alice's.
	later := start.Add(20 * 24 * time.Hour)
	filler := markerEvent(t, 9, later, "203.0.113.9")
	filler.Raw = []byte(strings.Replace(string(filler.Raw), "alice@", "bob@", 1))
	if _, err := s.AppendPage(t.Context(), 1, []store.Event{markerEvent(t, 1, start, "192.0.2.1"), filler}, nil); err != nil {
		t.Fatal(err)
	}
	p, err := New(t.Context(), Config{Store: s, RulesDir: rules})
	if err != nil {
		t.Fatal(err)
	}
	drain(t, p)
	if span := p.span; span >= later.Sub(start) {
		t.Fatalf("replay span %v reaches back to the first event; the test needs a longer gap", span)
	}
	if len(allAlerts(t, s)) != 0 {
		t.Fatal("learning the first addresses alerted")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, nil)
	if _, err := s.AppendPage(t.Context(), 1, []store.Event{markerEvent(t, 3, later.Add(time.Hour), "198.51.100.7"), markerEvent(t, 2, later.Add(time.Hour+time.Minute), "192.0.2.1")}, nil); err != nil {
		t.Fatal(err)
	}
	p, err = New(t.Context(), Config{Store: s, RulesDir: rules})
	if err != nil {
		t.Fatal(err)
	}
	drain(t, p)
	alerts := allAlerts(t, s)
	if len(alerts) != 1 || alerts[0].RuleID != "0b6f3c1e-5a2d-4c8e-9f10-2a3b4c5d6e7f" || !strings.Contains(string(alerts[0].Body), "marker-3") ||
		strings.Contains(string(alerts[0].Body), "marker-2") {
		t.Fatalf("after restart: %+v", alerts)
	}
}

// absenceRules alerts when a marker event is not followed by a follow-up within an hour.
const absenceRules = `title: Marker without follow-up
id: 4d1c2b3a-6e5f-4a7b-8c9d-0e1f2a3b4c5d
level: medium
correlation:
    type: absence
    rules: [marker, followup]
    group-by: [actor.alternateId]
    timespan: 1h
---
title: Marker event
name: marker
logsource:
    product: okta
detection:
    selection:
        eventType: idwatch.test.marker
    condition: selection
---
title: Follow-up event
name: followup
logsource:
    product: okta
detection:
    selection:
        eventType: idwatch.test.followup
    condition: selection
`

// TestIdleAdvance fires an absence in a quiet org from the clock alone, once, also across a
// restart.
func TestIdleAdvance(t *testing.T) {
	rules := writeRules(t, map[string]string{"absence.yml": absenceRules})
	s := openStore(t, t.TempDir(), nil)
	if _, err := s.AppendPage(t.Context(), 1, []store.Event{markerEvent(t, 1, start, "192.0.2.1")}, nil); err != nil {
		t.Fatal(err)
	}
	p, err := New(t.Context(), Config{Store: s, RulesDir: rules})
	if err != nil {
		t.Fatal(err)
	}
	drain(t, p)
	if err := p.AdvanceIdle(t.Context(), start.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := len(allAlerts(t, s)); n != 0 {
		t.Fatalf("%d alerts before the deadline", n)
	}
	for range 2 { // the second processor is a restart: the same absence must not be stored twice
		if err := p.AdvanceIdle(t.Context(), start.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if as := allAlerts(t, s); len(as) != 1 || as[0].RuleID != "4d1c2b3a-6e5f-4a7b-8c9d-0e1f2a3b4c5d" {
			t.Fatalf("after the deadline: %+v", as)
		}
		if p, err = New(t.Context(), Config{Store: s, RulesDir: rules}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBadEntry skips a journal entry that is not an Okta event without stopping, and keeps an
// event with fields it cannot read (counted, and normalized).
func TestBadEntry(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	bad := store.Event{UUID: "not-an-event", Published: start, EventType: "x", Raw: []byte(`{"status":"not-an-event"}`)}
	flawed := markerEvent(t, 2, start.Add(time.Second), "192.0.2.2")
	flawed.Raw = []byte(strings.Replace(string(flawed.Raw), `"outcome":`, `"debugContext":{"debugData":""},"outcome":`, 1))
	flawed.Raw = []byte(strings.Replace(string(flawed.Raw), start.Add(time.Second).Format(time.RFC3339Nano), "yesterday", 1))
	if _, err := s.AppendPage(t.Context(), 1, []store.Event{bad, markerEvent(t, 1, start, "192.0.2.1"), flawed}, nil); err != nil {
		t.Fatal(err)
	}
	p, err := New(t.Context(), Config{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	if n := drain(t, p); n != 3 {
		t.Fatalf("processed %d", n)
	}
	if st := p.Stats(); st.Undecodable != 1 || st.Flawed != 1 || st.Unevaluated != 0 || st.Offset != 3 || st.Records != 2 {
		t.Fatalf("stats %+v", st)
	}
}
