package collect

import (
	"fmt"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/store"
)

// TestExplainStoreFailures keeps the two storage classes apart: only a corrupt database gets
// the advice to restore it.
func TestExplainStoreFailures(t *testing.T) {
	full := fmt.Errorf("%w: store page: %w", errStore, fmt.Errorf("sqlite store x: %w (SQLITE_FULL)", store.ErrUnavailable))
	state, _, fix := Explain(full)
	if state != store.HealthError || strings.Contains(fix, "restore") || !strings.Contains(fix, "intact") {
		t.Fatalf("disk full: %s, fix %q", state, fix)
	}
	corrupt := fmt.Errorf("%w: store page: %w", errStore, fmt.Errorf("sqlite store x: %w (SQLITE_CORRUPT)", store.ErrCorrupt))
	if _, _, fix := Explain(corrupt); !strings.Contains(fix, "restore it from backup") {
		t.Fatalf("corrupt: fix %q", fix)
	}
}
