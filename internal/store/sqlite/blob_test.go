package sqlite

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// TestBlobsAreFresh keeps every journal entry read over several queries and checks that none
// changed afterwards: the store hands out the driver's blob memory without copying it (see blob),
// which is only right while the driver gives every value memory of its own.
func TestBlobsAreFresh(t *testing.T) {
	s, err := Open(t.Context(), Options{Path: filepath.Join(t.TempDir(), "idwatch.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := map[string][]byte{}
	published := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for page := range 3 {
		var evs []store.Event
		for i := range 500 {
			n := page*500 + i
			uuid := fmt.Sprintf("uuid-%04d", n)
			raw := fmt.Appendf(nil, `{"uuid":%q,"pad":%q}`, uuid, bytes.Repeat([]byte{byte('a' + n%26)}, 100+n%700))
			want[uuid] = bytes.Clone(raw)
			evs = append(evs, store.Event{UUID: uuid, Published: published, EventType: "user.session.start", Raw: raw})
		}
		if _, err := s.AppendPage(t.Context(), 1, evs, nil); err != nil {
			t.Fatal(err)
		}
	}
	var kept []store.Entry
	for after := int64(0); ; {
		es, err := s.ReadJournal(t.Context(), after, 200, store.ReadFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			break
		}
		kept = append(kept, es...)
		after = es[len(es)-1].Seq
	}
	// Reads on the same connections after the ones that produced kept.
	for range 3 {
		if _, err := s.ReadJournal(t.Context(), 0, 1000, store.ReadFilter{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(kept) != len(want) {
		t.Fatalf("read %d entries, want %d", len(kept), len(want))
	}
	for _, e := range kept {
		if !bytes.Equal(e.Raw, want[e.UUID]) {
			t.Fatalf("entry %s changed after later reads:\n got %.80s\nwant %.80s", e.UUID, e.Raw, want[e.UUID])
		}
	}
}
