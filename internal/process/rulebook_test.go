package process

import (
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// plainMarker alerts on every marker event.
const plainMarker = `title: Marker seen
id: 7d2c9a51-3e4f-4b8a-8c6d-1f2e3d4c5b6a
level: medium
logsource:
    product: okta
detection:
    selection:
        eventType: idwatch.test.marker
    condition: selection
`

// TestRulebookChanges uploads a rule and disables and enables it while the processor runs: each
// change applies from the next cycle, without a restart.
func TestRulebookChanges(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	ctx := t.Context()
	p, err := New(ctx, Config{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	const id = "7d2c9a51-3e4f-4b8a-8c6d-1f2e3d4c5b6a"
	n := 0
	cycle := func() int {
		t.Helper()
		n++
		if _, err := s.AppendPage(ctx, 1, []store.Event{markerEvent(t, n, start.Add(time.Duration(n)*time.Minute), "192.0.2.1")}, nil); err != nil {
			t.Fatal(err)
		}
		if err := p.syncRulebook(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := p.ProcessAvailable(ctx); err != nil {
			t.Fatal(err)
		}
		got := 0
		for _, a := range allAlerts(t, s) {
			if a.RuleID == id {
				got++
			}
		}
		return got
	}
	if got := cycle(); got != 0 {
		t.Fatalf("%d alerts before the upload", got)
	}
	if err := s.PutCustomRule(ctx, store.CustomRule{Filename: "marker.yml", RuleIDs: []string{id}, Body: []byte(plainMarker), UploadedBy: "ann"}); err != nil {
		t.Fatal(err)
	}
	if got := cycle(); got != 1 {
		t.Fatalf("%d alerts after the upload, want 1", got)
	}
	if err := s.SetRuleEnabled(ctx, store.RuleSetting{RuleID: id, Enabled: false, ChangedBy: "ann"}); err != nil {
		t.Fatal(err)
	}
	if got := cycle(); got != 1 {
		t.Fatalf("%d alerts after disabling, want still 1", got)
	}
	if err := s.SetRuleEnabled(ctx, store.RuleSetting{RuleID: id, Enabled: true, ChangedBy: "ann"}); err != nil {
		t.Fatal(err)
	}
	if got := cycle(); got != 2 {
		t.Fatalf("%d alerts after enabling again, want 2", got)
	}
	if err := s.DeleteCustomRule(ctx, "marker.yml"); err != nil {
		t.Fatal(err)
	}
	if got := cycle(); got != 2 {
		t.Fatalf("%d alerts after removing the rule, want still 2", got)
	}
}
