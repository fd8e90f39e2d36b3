package incident

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/normalize/ocsftest"
)

var update = flag.Bool("update", false, "rewrite the golden incident findings in testdata/")

// findingCases are incident changes covering every activity, status and optional part.
func findingCases(t *testing.T) map[string]struct {
	snap     Snapshot
	activity string
} {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	alerts := []Alert{
		{ID: "al-1", RuleID: "okta_mfa_push_fatigue", Severity: "high", Time: t0, Scope: "1", GroupKey: "target.alternateId=kim@example.com", Tactics: []string{"credential-access"}},
		{ID: "al-2", RuleID: "okta_new_admin", Severity: "critical", Time: t0.Add(10 * time.Minute), Scope: "1", GroupKey: "actor.alternateId=kim@example.com", Tactics: []string{"privilege-escalation"}},
	}
	incs, err := Group(alerts, Config{})
	if err != nil || len(incs) != 1 {
		t.Fatalf("group: %v %+v", err, incs)
	}
	detail, err := json.Marshal(incs[0])
	if err != nil {
		t.Fatal(err)
	}
	base := Snapshot{ID: incs[0].ID, Status: "new", Risk: incs[0].Risk, Severity: incs[0].Severity, FirstAlert: t0,
		LastAlert: t0.Add(10 * time.Minute), Alerts: incs[0].Alerts, Detail: detail, CreatedAt: t0.Add(time.Minute),
		UpdatedAt: t0.Add(11 * time.Minute), LastChange: "1 → 2 alerts"}
	with := func(f func(*Snapshot)) Snapshot { s := base; f(&s); return s }
	return map[string]struct {
		snap     Snapshot
		activity string
	}{
		"created":        {with(func(s *Snapshot) { s.Alerts, s.LastChange = s.Alerts[:1], "created" }), ActivityCreate},
		"grown":          {base, ActivityUpdate},
		"assigned":       {with(func(s *Snapshot) { s.Status, s.Assignee = "in_progress", "ann" }), ActivityUpdate},
		"resolved":       {with(func(s *Snapshot) { s.Status = "resolved" }), ActivityClose},
		"false_positive": {with(func(s *Snapshot) { s.Status = "false_positive" }), ActivityClose},
		"merged_away":    {with(func(s *Snapshot) { s.MergedInto = "inc-other" }), ActivityClose},
	}
}

func TestFindingIsValidOCSF(t *testing.T) {
	v := ocsftest.New(t)
	for name, c := range findingCases(t) {
		t.Run(name, func(t *testing.T) {
			f, err := Finding(c.snap, c.activity, 7)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.MarshalIndent(f, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Validate(b); err != nil {
				t.Fatalf("not a valid OCSF 1.8.0 Incident Finding: %v\n%s", err, b)
			}
			golden := filepath.Join("testdata", "findings", name+".json")
			b = append(b, '\n')
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/incident -run TestFindingIsValidOCSF -update)", err)
			}
			if !bytes.Equal(b, want) {
				t.Errorf("%s differs from the golden file:\n%s", name, b)
			}
		})
	}
}

func TestFindingRefusesUnknownActivity(t *testing.T) {
	if _, err := Finding(Snapshot{ID: "x"}, "explode", 1); err == nil {
		t.Fatal("an unknown activity rendered")
	}
	if _, err := Finding(Snapshot{ID: "x", Detail: json.RawMessage(`{"entity":`)}, ActivityCreate, 1); err == nil {
		t.Fatal("a grouping that does not decode rendered")
	}
}
