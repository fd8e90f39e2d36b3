package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// downgradeSearch turns a database back into schema 9 (before the event index and alert
// triage), keeping its journal and alerts, as an older idwatch left it.
func downgradeSearch(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`DROP TRIGGER alerts_triage_insert`, `DROP TRIGGER alerts_triage_delete`,
		`DROP TABLE alert_history`, `DROP TABLE alert_entities`,
		`DROP INDEX alerts_status_time`, `DROP INDEX alerts_rule_time`,
		`ALTER TABLE alerts DROP COLUMN status`, `ALTER TABLE alerts DROP COLUMN status_before`,
		`ALTER TABLE alerts DROP COLUMN status_reason`, `ALTER TABLE alerts DROP COLUMN suppressed_until`,
		`ALTER TABLE alerts DROP COLUMN status_by`, `ALTER TABLE alerts DROP COLUMN status_at`,
		`DROP TABLE event_terms`, `DROP TABLE event_index`, `DROP TABLE search_entities`, `DROP TABLE search_names`,
		`DROP TABLE event_index_backfill`,
		`DROP TABLE identity_stream`, `DELETE FROM sequences WHERE name = 'identity'`,
		`DROP TABLE rule_settings`, `DROP TABLE custom_rules`, `DELETE FROM sequences WHERE name = 'rulebook'`,
		`DELETE FROM schema_version WHERE version >= 17`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestMigrationIndexesExistingJournal upgrades a database whose journal and alerts predate the
// event index and triage: the index is built in place when the store opens, and the alerts
// start as new with their identities indexed.
func TestMigrationIndexesExistingJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idwatch.db")
	s := openAt(t, path)
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const n = 2*backfillBatch + 17 // more than one backfill transaction
	evs := make([]store.Event, n)
	for i := range evs {
		uuid := fmt.Sprintf("ev-%05d", i)
		raw, _ := json.Marshal(map[string]any{"uuid": uuid, "eventType": "user.session.start", "published": base.Add(time.Duration(i) * time.Second),
			"actor":   map[string]any{"id": fmt.Sprintf("00u%d", i%7), "alternateId": fmt.Sprintf("user%d@acme.example", i%7)},
			"client":  map[string]any{"ipAddress": fmt.Sprintf("192.0.2.%d", i%11)},
			"outcome": map[string]any{"result": []string{"SUCCESS", "FAILURE"}[i%2]}})
		evs[i] = store.Event{UUID: uuid, Published: base.Add(time.Duration(i) * time.Second), EventType: "user.session.start", Raw: raw}
	}
	if _, err := s.AppendPage(t.Context(), 1, evs, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendAlerts(t.Context(), []store.Alert{{ID: "old", RuleID: "r", Severity: "high", Time: base, IntegrationID: 1,
		Body: []byte(`{"unmapped":{"entities":["user:user3@acme.example"]}}`)}}); err != nil {
		t.Fatal(err)
	}
	want := func(s *Store) int {
		t.Helper()
		total := 0
		q := store.EventQuery{Actor: "USER3@acme.example", Outcomes: []string{"FAILURE"}, Limit: 1000}
		for {
			p, err := s.SearchEvents(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			total += len(p.Events)
			if p.Next == "" {
				return total
			}
			q.Cursor = p.Next
		}
	}
	before := want(s)
	if before == 0 {
		t.Fatal("the filter matches nothing")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	downgradeSearch(t, path)
	s = openAt(t, path)
	if v, err := s.SchemaVersion(t.Context()); err != nil || v < 18 {
		t.Fatalf("schema version %d, %v", v, err)
	}
	if got := want(s); got != before {
		t.Fatalf("after the upgrade the search finds %d events, before %d", got, before)
	}
	var left int
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM event_index_backfill`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("backfill marker left: %d, %v", left, err)
	}
	p, err := s.SearchAlerts(t.Context(), store.AlertQuery{Identity: "user3@acme.example", Statuses: []string{store.AlertNew}})
	if err != nil || len(p.Alerts) != 1 || p.Alerts[0].ID != "old" {
		t.Fatalf("existing alert after the upgrade: %+v, %v", p, err)
	}
}
