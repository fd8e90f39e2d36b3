package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/store"
)

// TestJournalCompressed checks what the journal's rows hold: an integration's first events are
// compressed without a dictionary until a page brings enough to build one, later events against
// it, and the stored bytes are a fraction of the events'.
func TestJournalCompressed(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "c.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pages := benchPages(3, 1000)
	small := pages[0][:10]
	if _, err := s.AppendPage(ctx, 1, small, nil); err != nil {
		t.Fatal(err)
	}
	plain := 0
	for p := range pages {
		evs := pages[p]
		if p == 0 {
			evs = evs[10:]
		}
		if _, err := s.AppendPage(ctx, 1, evs, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, page := range pages {
		for _, e := range page {
			plain += len(e.Raw)
		}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT COALESCE(dict, -1), COUNT(*), SUM(LENGTH(raw)) FROM journal GROUP BY dict ORDER BY dict`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int64]int{}
	stored := 0
	for rows.Next() {
		var dict, n, size int64
		if err := rows.Scan(&dict, &n, &size); err != nil {
			t.Fatal(err)
		}
		got[dict] = int(n)
		stored += int(size)
	}
	if len(got) != 2 || got[0] != 10 || got[1] != 2990 {
		t.Fatalf("rows by dictionary (-1: stored as is, 0: none) = %v, want 10 without and 2990 with dictionary 1", got)
	}
	if stored*5 > plain {
		t.Fatalf("journal rows hold %d bytes for %d bytes of events: want at least 5× less", stored, plain)
	}
	t.Logf("%d bytes of events stored in %d (%.1f×)", plain, stored, float64(plain)/float64(stored))
}

// TestDamagedRowIsCorrupt: a row whose bytes do not decompress fails the read with ErrCorrupt,
// naming the entry, instead of returning other bytes.
func TestDamagedRowIsCorrupt(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "d.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AppendPage(ctx, 1, benchPages(1, 100)[0], nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE journal SET raw = substr(raw, 1, length(raw) - 9) WHERE seq = 42`); err != nil {
		t.Fatal(err)
	}
	_, err = s.ReadJournal(ctx, 0, 100, store.ReadFilter{})
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "journal entry 42 ") {
		t.Fatalf("read of a damaged row: %v, want ErrCorrupt naming entry 42", err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE journal SET dict = 99 WHERE seq = 7`); err != nil {
		t.Fatal(err)
	}
	_, err = s.ReadJournal(ctx, 0, 10, store.ReadFilter{})
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "dictionary 99 is missing") {
		t.Fatalf("read of a row whose dictionary is missing: %v", err)
	}
}

// fuzzDict is the dictionary FuzzDecodeRaw's frames may refer to (id 1).
var fuzzDict = []byte(strings.Repeat(`{"actor":{"id":"00u1","type":"User","alternateId":"a@b.example"},"eventType":"user.session.start"}`, 20))

// FuzzDecodeRaw feeds arbitrary stored bytes to the journal's decoder: it must return an error or
// bytes within MaxRawBytes, never panic or hang, and what it encodes must decode to itself.
func FuzzDecodeRaw(f *testing.F) {
	c, err := newRawCodec()
	if err != nil {
		f.Fatal(err)
	}
	defer c.close()
	de, err := newDictEncoder(1, fuzzDict)
	if err != nil {
		f.Fatal(err)
	}
	// The decoder of dictionary 1 is looked up in a table of this one row.
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE journal_dicts (id INTEGER PRIMARY KEY, dict BLOB); INSERT INTO journal_dicts VALUES (1, $1)`, fuzzDict); err != nil {
		f.Fatal(err)
	}
	event := []byte(`{"actor":{"id":"00u2","type":"User","alternateId":"c@d.example"},"eventType":"user.session.end","uuid":"u"}`)
	f.Add(int64(1), de.enc.EncodeAll(event, nil), false)
	f.Add(int64(0), c.plainEnc.EncodeAll(event, nil), false)
	f.Add(int64(-1), event, false)
	f.Add(int64(1), event, true)
	f.Fuzz(func(t *testing.T, dict int64, data []byte, roundTrip bool) {
		ctx := context.Background()
		nd := sql.NullInt64{Int64: dict, Valid: dict >= 0}
		if dict > 1 {
			nd.Int64 = 1
		}
		if roundTrip {
			enc, id := c.plainEnc, int64(0)
			if nd.Int64 == 1 {
				enc, id = de.enc, 1
			}
			stored, col := encode(enc, id, data)
			v := sql.NullInt64{}
			if col != nil {
				v = sql.NullInt64{Int64: col.(int64), Valid: true}
			}
			back, err := c.decode(ctx, db, v, stored)
			if err != nil || !bytes.Equal(back, data) {
				t.Fatalf("round trip of %d bytes: %d bytes back, %v", len(data), len(back), err)
			}
			return
		}
		out, err := c.decode(ctx, db, nd, data)
		if err == nil && len(out) > MaxRawBytes {
			t.Fatalf("decoded %d bytes, beyond MaxRawBytes", len(out))
		}
		if err != nil && !errors.Is(err, errDamagedRow) {
			t.Fatalf("error is not errDamagedRow: %v", err)
		}
	})
}
