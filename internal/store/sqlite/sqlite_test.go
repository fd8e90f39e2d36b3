package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/storetest"
)

// openTest opens a store for the conformance suite.
func openTest(t *testing.T, h storetest.Harness) store.Store {
	t.Helper()
	s, err := Open(t.Context(), Options{
		Path:              filepath.Join(h.Location, "idwatch.db"),
		Clock:             h.Clock.Now,
		Sealer:            h.Sealer,
		Faults:            h.Faults,
		MaxJournalEntries: h.MaxJournalEntries,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, openTest)
}
