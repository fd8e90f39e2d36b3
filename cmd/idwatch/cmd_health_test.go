package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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

// TestHealthTable: the health table of collect --once and serve --once names each integration
// (an id only for one removed since), with the reason and its fix.
func TestHealthTable(t *testing.T) {
	t.Setenv("IDWATCH_MASTER_KEY", "")
	dir := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.OpenDataDir(ctx, dir, sqlite.Options{Keys: sqlite.KeyStore})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in, err := st.CreateIntegration(ctx, store.Integration{Name: "acme", OrgURL: "https://acme.okta.com", AuthKind: store.AuthAPIToken,
		Enabled: true, Credentials: store.Credentials{APIToken: secret.New("secret-token")}})
	if err != nil {
		t.Fatal(err)
	}
	last := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var out strings.Builder
	printHealth(stdio{out: &out}, st, []store.Health{
		{IntegrationID: in.ID, State: store.HealthCollecting, LastEventAt: last, EventsCollected: 41, RequestsMade: 3, BudgetShareUsed: 0.125},
		{IntegrationID: 9, State: store.HealthError, Reason: "Okta refused the API token (HTTP 401)", Fix: "enter a new token"},
	})
	want := "INTEGRATION  STATE       LAST EVENT            EVENTS  REQUESTS  BUDGET  REASON\n" +
		"acme         collecting  2026-12-04T10:00:00Z  41      3         12%     \n" +
		"9 (removed)  error       -                     0       0         0%      Okta refused the API token (HTTP 401) — fix: enter a new token\n"
	if out.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestQuietFlag: serve and collect take --quiet.
func TestQuietFlag(t *testing.T) {
	t.Setenv("IDWATCH_MASTER_KEY", "")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "idwatch.yml")
	if err := os.WriteFile(cfg, []byte("process: {enabled: false}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"collect", "--data-dir", filepath.Join(dir, "data"), "--once", "--quiet"},
		{"serve", "--data-dir", filepath.Join(dir, "data"), "--config", cfg, "--once", "--quiet"},
	} {
		if code, out, errOut := runCLI(t, "", args...); code != 0 || strings.Contains(errOut, "integration status") {
			t.Errorf("%v: code %d\n%s%s", args, code, out, errOut)
		}
	}
}
