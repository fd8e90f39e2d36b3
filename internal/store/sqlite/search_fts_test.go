package sqlite

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
	"github.com/idwatch/idwatch/internal/store"
)

// BenchmarkFreeText weighs SQLite FTS5 against the bounded scan free text uses: it indexes a
// simulated org's events (raw JSON) in FTS5 tables and reports their bytes per event, and the
// time of the first page of a free-text search each way.
func BenchmarkFreeText(b *testing.B) {
	ctx := context.Background()
	start := time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)
	g, err := scenario.New(scenario.Config{Seed: 3, Users: 500, OrgDomain: "acme.example", Start: start})
	if err != nil {
		b.Fatal(err)
	}
	var evs []store.Event
	g.Advance(start.Add(48*time.Hour), func(ev *event.LogEvent) {
		raw, _ := json.Marshal(ev)
		evs = append(evs, store.Event{UUID: ev.UUID, Published: ev.Published, EventType: ev.EventType, Raw: raw})
	})
	s, err := Open(ctx, Options{Path: filepath.Join(b.TempDir(), "idwatch.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < len(evs); i += 1000 {
		if _, err := s.AppendPage(ctx, 1, evs[i:min(i+1000, len(evs))], nil); err != nil {
			b.Fatal(err)
		}
	}
	n := float64(len(evs))
	for _, detail := range []string{"none", "full"} {
		if _, err := s.w.ExecContext(ctx, `CREATE VIRTUAL TABLE fts_`+detail+` USING fts5(body, content='', detail=`+detail+`)`); err != nil {
			b.Fatal(err)
		}
		if _, err := s.w.ExecContext(ctx, `INSERT INTO fts_`+detail+` (rowid, body) SELECT seq, CAST(raw AS TEXT) FROM journal`); err != nil {
			b.Fatal(err)
		}
		var bytes int64
		if err := s.r.QueryRow(`SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'fts_` + detail + `%'`).Scan(&bytes); err != nil {
			b.Fatal(err)
		}
		b.Logf("%d events: FTS5 detail=%s adds %.0f bytes/event; the journal holds %.0f", len(evs), detail, float64(bytes)/n,
			float64(tableBytes(b, s.r, "journal"))/n)
	}
	const word = "Android" // in some events' user agents
	b.Run("fts5_first_page", func(b *testing.B) {
		for b.Loop() {
			rows, err := s.r.Query(`SELECT rowid FROM fts_none WHERE fts_none MATCH $1 ORDER BY rowid DESC LIMIT 50`, word)
			if err != nil {
				b.Fatal(err)
			}
			k := 0
			for rows.Next() {
				k++
			}
			rows.Close()
			if k == 0 {
				b.Fatal("no match")
			}
		}
	})
	b.Run("bounded_scan_first_page", func(b *testing.B) {
		for b.Loop() {
			p, err := s.SearchEvents(ctx, store.EventQuery{Text: word})
			if err != nil || len(p.Events) == 0 {
				b.Fatalf("%d events, %v", len(p.Events), err)
			}
		}
	})
}
