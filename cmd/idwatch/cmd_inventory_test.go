package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInventoryCommands syncs an oktasim org through the CLI, then lists admins, shows one user
// and prints the posture findings, in text and JSON.
func TestInventoryCommands(t *testing.T) {
	// Seed 7 plants the first three flaws: a dormant admin, one with weak MFA, one without a
	// phishing-resistant factor.
	f := simFlags{listen: "127.0.0.1:0", history: time.Hour, users: 120, seed: 7, orgDomain: "acme.example", noRateLimits: true, postureFlaws: "seed"}
	var logs strings.Builder
	sim, serve, err := f.start(stdio{out: &logs, err: &logs, log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})
	tokFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokFile, []byte(sim.Info.APIToken), 0o600); err != nil {
		t.Fatal(err)
	}
	dd := "--data-dir=" + t.TempDir()
	if code, out, errOut := runCLI(t, "", "integrations", "add", dd, "--name", "acme", "--org-url", sim.Info.OrgURL, "--api-token-file", tokFile); code != 0 {
		t.Fatalf("add: %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "", "inventory", "sync", "--integration", "acme", dd); code == 0 || !strings.Contains(errOut, "--features") {
		t.Fatalf("sync without the inventory feature: %d %s", code, errOut)
	}
	if code, out, errOut := runCLI(t, "", "integrations", "update", "acme", "--features", "logs,inventory", dd); code != 0 {
		t.Fatalf("update: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, "", "inventory", "sync", "--integration", "acme", dd)
	if code != 0 || !strings.Contains(out, "acme: 12") || !strings.Contains(out, "Okta API calls") {
		t.Fatalf("sync: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "", "inventory", "users", "--admins", "--json", dd)
	if code != 0 {
		t.Fatalf("users: %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var admin struct {
		Login   string `json:"login"`
		IsAdmin bool   `json:"isAdmin"`
	}
	if len(lines) < 2 || json.Unmarshal([]byte(lines[0]), &admin) != nil || !admin.IsAdmin {
		t.Fatalf("admins: %s", out)
	}
	if code, out, errOut = runCLI(t, "", "inventory", "user", admin.Login, dd); code != 0 || !strings.Contains(out, "admin roles") || !strings.Contains(out, admin.Login) {
		t.Fatalf("user: %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut = runCLI(t, "", "inventory", "user", "nobody@acme.example", dd); code == 0 || !strings.Contains(errOut, "no user") {
		t.Fatalf("unknown user: %d %s", code, errOut)
	}
	if code, out, errOut = runCLI(t, "", "posture", "--integration", "acme", dd); code != 0 ||
		!strings.Contains(out, "Privileged accounts unused") || !strings.Contains(out, "Admins with only SMS") ||
		!strings.Contains(out, "Admins without a phishing-resistant factor") || !strings.Contains(out, "fix: ") {
		t.Fatalf("posture: %d\n%s\n%s", code, out, errOut)
	}
}

// TestInventorySyncWithServiceApp: an OAuth service app integration with the inventory feature
// syncs with the scopes the feature requests; the connector is the app, read through its roles.
func TestInventorySyncWithServiceApp(t *testing.T) {
	orgURL, app := simApp(t)
	dd := "--data-dir=" + t.TempDir()
	if code, out, errOut := runCLI(t, "", append([]string{"integrations", "add", dd, "--name", "acme", "--org-url", orgURL, "--features", "inventory"}, app...)...); code != 0 {
		t.Fatalf("add: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, "", "inventory", "sync", "--integration", "acme", "--json", dd)
	if code != 0 {
		t.Fatalf("sync: %d\n%s\n%s", code, out, errOut)
	}
	var got struct {
		Sync struct {
			Users     int `json:"users"`
			Connector struct {
				ClientID string `json:"clientId"`
				Roles    []any  `json:"roles"`
			} `json:"connector"`
		} `json:"sync"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Sync.Users < 10 || got.Sync.Connector.ClientID == "" {
		t.Fatalf("sync result: %v %s", err, out)
	}
}
