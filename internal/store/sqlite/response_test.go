package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/store"
)

// The audit trail is append-only in the database itself, not only by convention.
func TestResponseAuditRefusesUpdates(t *testing.T) {
	s, err := Open(t.Context(), Options{Path: filepath.Join(t.TempDir(), "idwatch.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, _, err = s.CreateResponseAction(t.Context(), store.ResponseAction{ID: "ra1", Key: "k", Action: "suspend", User: "u", RequestedBy: "cli:a",
		Mode: "manual", Status: store.ResponseApproved}, store.ResponseRecord{By: "cli:a", Kind: "requested"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.w.ExecContext(t.Context(), `UPDATE response_audit SET text = 'rewritten'`)
	if err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update of the trail: %v", err)
	}
}
