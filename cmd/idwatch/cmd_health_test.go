package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// TestIntegrationsListLagInError: an integration in error shows how far it trails (now minus
// its newest collected event), not the lag it had when the error began.
func TestIntegrationsListLagInError(t *testing.T) {
	t.Setenv("IDWATCH_MASTER_KEY", "")
	dir := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.OpenDataDir(ctx, dir, sqlite.Options{Keys: sqlite.KeyStore})
	if err != nil {
		t.Fatal(err)
	}
	in, err := st.CreateIntegration(ctx, store.Integration{Name: "acme", OrgURL: "https://acme.okta.com", AuthKind: store.AuthAPIToken,
		Enabled: true, Credentials: store.Credentials{APIToken: secret.New("secret-token")}})
	if err != nil {
		t.Fatal(err)
	}
	last := time.Now().Add(-2 * time.Hour)
	if err := st.SetHealth(ctx, store.Health{IntegrationID: in.ID, State: store.HealthError, Reason: "token revoked", Fix: "rotate it",
		LastEventAt: last, EventsCollected: 10}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	code, out, errOut := runCLI(t, "", "integrations", "list", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "  error  ") || !strings.Contains(out, "  2h0m") || strings.Contains(out, "secret-token") {
		t.Fatalf("list: code %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", "integrations", "list", "--data-dir", dir, "--json")
	var rows []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 {
		t.Fatalf("list --json: %q", out)
	}
	h, _ := rows[0]["health"].(map[string]any)
	if lag, _ := h["lag"].(float64); time.Duration(lag) < 2*time.Hour || time.Duration(lag) > 3*time.Hour {
		t.Fatalf("--json health.lag %v, want about 2h: %q", h["lag"], out)
	}
}
