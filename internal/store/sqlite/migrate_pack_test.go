package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/storetest"
)

// TestMigrationPacksJournal builds a database of schema 0013 (the journal uncompressed, OCSF
// records with raw_data) with data, opens it with this idwatch, and checks that the migration
// compressed every event in place, byte for byte, kept seqs, offsets and the sequence, dropped
// the records, and that appends and reads carry on.
func TestMigrationPacksJournal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	if err := createDatabase(ctx, path, time.Second); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if err := migrate(ctx, db, time.Now, nil, 13); err != nil {
		t.Fatal(err)
	}
	var evs []store.Event
	for _, p := range benchPages(2, 400) {
		evs = append(evs, p...)
	}
	evs = append(evs, storetest.OddEvents("odd", time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))...)
	want := map[int64][]byte{}
	for i, e := range evs {
		seq, integration := int64(i+1), int64(1+i%2)
		want[seq] = e.Raw
		if _, err := db.ExecContext(ctx, `INSERT INTO journal (seq, integration_id, uuid, published, event_type, raw, stored_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, seq, integration, e.UUID, e.Published.UnixNano(), e.EventType, []byte(e.Raw), int64(1000+i)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO records (seq, schema_name, integration_id, class_uid, uuid, time, body)
			VALUES ($1, 'auth', $2, 3002, $3, $4, $5)`, seq, integration, e.UUID, e.Published.UnixNano(), []byte(`{"raw_data":`+fmt.Sprintf("%q", e.Raw)+`}`)); err != nil {
			t.Fatal(err)
		}
	}
	last := int64(len(evs))
	if _, err := db.ExecContext(ctx, `UPDATE sequences SET value = $1 WHERE name = 'journal'`, last); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO consumers (name, stream, offset_seq, registered_at, updated_at) VALUES ('processor', 'journal', 500, 0, 0)`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(ctx); err != nil || v != countMigrations() {
		t.Fatalf("schema version %d %v", v, err)
	}
	var records int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE name = 'records'`).Scan(&records); err != nil || records != 0 {
		t.Fatalf("records table still there (%d, %v)", records, err)
	}
	var asIs, dicts int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM journal WHERE dict IS NULL AND LENGTH(raw) >= $1`, minCompressBytes).Scan(&asIs); err != nil || asIs != 0 {
		t.Fatalf("%d rows left uncompressed (%v)", asIs, err)
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM journal_dicts`).Scan(&dicts); err != nil || dicts != 2 {
		t.Fatalf("%d dictionaries, want one per integration (%v)", dicts, err)
	}
	got, err := s.ReadJournal(ctx, 0, 10_000, store.ReadFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(evs) {
		t.Fatalf("read %d entries, want %d", len(got), len(evs))
	}
	for i, e := range got {
		if e.Seq != int64(i+1) || !bytes.Equal(e.Raw, want[e.Seq]) || e.IntegrationID != int64(1+i%2) || e.UUID != evs[i].UUID ||
			!e.Published.Equal(evs[i].Published) || e.StoredAt.UnixNano() != int64(1000+i) {
			t.Fatalf("entry %d after migration: seq %d, integration %d, uuid %s, %d bytes", i, e.Seq, e.IntegrationID, e.UUID, len(e.Raw))
		}
	}
	if off, err := s.Offset(ctx, "processor"); err != nil || off != 500 {
		t.Fatalf("offset after migration: %d %v", off, err)
	}
	// The indexes came back: a duplicate is refused, and reads by time and uuid work.
	r, err := s.AppendPage(ctx, 1, []store.Event{evs[0], realisticEvent(9, 1)}, nil)
	if err != nil || r.Inserted != 1 || r.Duplicates != 1 || r.LastSeq != last+1 {
		t.Fatalf("append after migration: %+v %v", r, err)
	}
	byUUID, err := s.JournalByUUID(ctx, 2, []string{evs[1].UUID})
	if err != nil || len(byUUID) != 1 || !bytes.Equal(byUUID[0].Raw, evs[1].Raw) {
		t.Fatalf("by uuid after migration: %+v %v", byUUID, err)
	}
	byTime, err := s.ReadJournalByTime(ctx, store.TimeKey{}, 5, store.TimeFilter{})
	if err != nil || len(byTime) != 5 || !bytes.Equal(byTime[0].Raw, want[byTime[0].Seq]) {
		t.Fatalf("by time after migration: %d %v", len(byTime), err)
	}
}
