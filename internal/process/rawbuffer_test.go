package process

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// poisonStore overwrites the whole buffer of the previous read before each ReadJournalInto, so
// anything the processor kept of an earlier batch's raw events reads as garbage.
type poisonStore struct{ *sqlite.Store }

func (s poisonStore) ReadJournalInto(ctx context.Context, after int64, limit int, f store.ReadFilter, buf []byte) ([]store.Entry, []byte, error) {
	copy(buf[:cap(buf)], bytes.Repeat([]byte{'\xff'}, cap(buf)))
	return s.Store.ReadJournalInto(ctx, after, limit, f, buf)
}

// plainStore hides ReadJournalInto: every batch has buffers of its own.
type plainStore struct{ store.Store }

// TestReusedRawBufferKeepsNothing proves that the processor keeps nothing that refers to a
// batch's raw events once it reads the next batch into the same buffer: with the buffer poisoned
// before every read, the alerts (ids and bodies) and the committed state equal those of a run
// whose batches each have buffers of their own, and the reference engines'.
func TestReusedRawBufferKeepsNothing(t *testing.T) {
	c := sharedCorpus()
	run := func(wrap func(*sqlite.Store) store.Store) ([]store.Alert, []store.StateEntry) {
		s := openStore(t, t.TempDir(), nil)
		c.appendPages(t, s, 0, len(c.pages))
		p := newProcessor(t, wrap(s), 50)
		if n := drain(t, p); n != c.total {
			t.Fatalf("processed %d entries, want %d", n, c.total)
		}
		state, err := s.ConsumerState(context.Background(), "processor")
		if err != nil {
			t.Fatal(err)
		}
		return allAlerts(t, s), state
	}
	poisonedAlerts, poisonedState := run(func(s *sqlite.Store) store.Store { return poisonStore{s} })
	plainAlerts, plainState := run(func(s *sqlite.Store) store.Store { return plainStore{s} })
	if got := alertIDs(t, poisonedAlerts); !slices.Equal(got, sharedReference()) {
		t.Fatalf("with the raw buffer reused, %d alerts; the reference engines raised %d", len(got), len(sharedReference()))
	}
	if len(poisonedAlerts) != len(plainAlerts) {
		t.Fatalf("%d alerts with the buffer reused, %d without", len(poisonedAlerts), len(plainAlerts))
	}
	for i := range plainAlerts {
		if a, b := poisonedAlerts[i], plainAlerts[i]; a.ID != b.ID || !bytes.Equal(a.Body, b.Body) || a.GroupKey != b.GroupKey {
			t.Fatalf("alert %d differs with the buffer reused:\n%s\nwithout:\n%s", i, a.Body, b.Body)
		}
	}
	if !slices.EqualFunc(poisonedState, plainState, func(a, b store.StateEntry) bool { return a.Key == b.Key && bytes.Equal(a.Value, b.Value) }) {
		t.Fatalf("committed state differs with the buffer reused (%d entries, %d without)", len(poisonedState), len(plainState))
	}
	if bytes.Contains(poisonedAlerts[0].Body, []byte{'\xff'}) {
		t.Fatal("an alert holds poisoned bytes")
	}
}
