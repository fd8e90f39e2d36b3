package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/store"
)

// TestIntegrationsAddExitStatus: add exits 0 only when the integration was stored and verified
// (or verification was skipped on purpose); a failed verification stores it disabled with the
// failing check and exits 1, with --json too; bad arguments exit 2 and store nothing.
func TestIntegrationsAddExitStatus(t *testing.T) {
	org := newKeyTestOrg(t)
	good := org.tokenFile(t, "good")
	bad := filepath.Join(org.dir, "bad")
	if err := os.WriteFile(bad, []byte("00not-a-token-of-this-org"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		args    []string
		code    int
		out     string // in stdout
		stored  bool
		enabled bool
	}{
		{"verified", []string{"--org-url", org.url, "--api-token-file", good}, 0, "enabled", true, true},
		{"token refused", []string{"--org-url", org.url, "--api-token-file", bad}, 1, "disabled: fix the failed check", true, false},
		{"token refused, json", []string{"--org-url", org.url, "--api-token-file", bad, "--json"}, 1, `"canCollectLogs": false`, true, false},
		{"not verified on purpose", []string{"--org-url", org.url, "--api-token-file", bad, "--no-verify"}, 0, "disabled: run idwatch integrations enable", true, false},
		{"no credentials", []string{"--org-url", org.url, "--api-token-file", ""}, 2, "", false, false},
		{"no org", []string{"--api-token-file", good}, 2, "", false, false},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			t.Setenv(envAPIToken, "")
			dd := "--data-dir=" + filepath.Join(t.TempDir(), "data")
			code, out, errOut := runCLI(t, "", append([]string{"integrations", "add", dd, "--name", "acme"}, c.args...)...)
			if code != c.code || !strings.Contains(out, c.out) {
				t.Fatalf("exit %d (want %d), stdout:\n%s\nstderr:\n%s", code, c.code, out, errOut)
			}
			if !c.stored {
				if _, err := os.Stat(strings.TrimPrefix(dd, "--data-dir=")); err == nil {
					if rows := listed(t, dd); len(rows) != 0 {
						t.Fatalf("bad arguments stored %v", rows)
					}
				}
				return
			}
			row, ok := listed(t, dd)["acme"]
			if !ok || row.Enabled != c.enabled {
				t.Fatalf("stored %t, enabled %t; want enabled %t", ok, row.Enabled, c.enabled)
			}
			if c.code == 1 && (row.Health == nil || row.Health.State != store.HealthError || row.Health.Fix == "") {
				t.Fatalf("a refused add must leave the failing check with its fix: %+v", row.Health)
			}
		})
	}
}

// TestIntegrationsShow shows an API token integration and a service app one, human and --json:
// settings, state, counts and cursor are there, no secret is.
func TestIntegrationsShow(t *testing.T) {
	org := startSimOrg(t, oktasim.Config{})
	org.appendSimEvents(t, 0, 120, time.Now(), nil)
	dir := t.TempDir()
	dd := org.addIntegration(t, dir)
	mustCLI(t, "collect", dd, "--once")

	out := mustCLI(t, "integrations", "show", "acme", dd)
	for _, want := range []string{"name:", "acme (id 1)", org.url, "api_token", "API token (SSWS)", "state:", "collecting",
		"120 collected", "cursor:", "after events published", "created:", "updated:", "lag:", "features:", "logs"} {
		if !strings.Contains(out, want) {
			t.Fatalf("show lacks %q:\n%s", want, out)
		}
	}
	var d integrationDetail
	js := mustCLI(t, "integrations", "show", dd, "--json", "acme")
	if err := json.Unmarshal([]byte(js), &d); err != nil {
		t.Fatal(err)
	}
	if d.Name != "acme" || d.AuthKind != store.AuthAPIToken || d.Health.EventsCollected != 120 || d.Cursor == nil ||
		d.Cursor.LastPublished.IsZero() || d.CreatedAt.IsZero() || !d.Enabled {
		t.Fatalf("show --json: %+v", d)
	}
	for _, o := range []string{out, js} {
		if strings.Contains(o, org.token) {
			t.Fatal("show prints the API token")
		}
	}

	// A service app: client id, key id, scopes and algorithm, never the key.
	as, clientID := withSimServiceApp(t, org)
	keyFile := newAppKey(t, as, clientID, "key-1", dir, false)
	mustCLI(t, "integrations", "update", "acme", dd, "--client-id", clientID, "--key-id", "key-1", "--private-key-file", keyFile, "--scopes", "okta.logs.read")
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	keyBody := strings.Split(string(keyPEM), "\n")[1]
	out = mustCLI(t, "integrations", "show", "acme", dd)
	js = mustCLI(t, "integrations", "show", "acme", dd, "--json")
	for _, want := range []string{clientID, "key-1", "okta.logs.read", "ES256", "oauth", "DPoP key:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("show lacks %q:\n%s", want, out)
		}
	}
	if err := json.Unmarshal([]byte(js), &d); err != nil {
		t.Fatal(err)
	}
	if d.ClientID != clientID || d.KeyID != "key-1" || d.Credentials.SigningAlgorithm != "ES256" || d.Cursor == nil {
		t.Fatalf("show --json after update: %+v", d)
	}
	for _, o := range []string{out, js} {
		if strings.Contains(o, keyBody) || strings.Contains(o, "PRIVATE KEY") {
			t.Fatal("show prints the private key")
		}
	}

	if code, _, errOut := runCLI(t, "", "integrations", "show", "nope", dd); code == 0 || !strings.Contains(errOut, "integrations list") {
		t.Fatalf("unknown name: exit %d, %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "", "integrations", "show", dd); code != 2 {
		t.Fatalf("no name: exit %d, want 2", code)
	}
}
