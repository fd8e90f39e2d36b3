package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/secret"
)

// simApp starts idwatch sim (extra flags set it up wrongly on purpose) and returns its org URL
// and the service app's credential flags.
func simApp(t *testing.T, extra ...string) (orgURL string, app []string) {
	t.Helper()
	t.Setenv(secret.EnvMasterKey, "")
	dir := t.TempDir()
	info := filepath.Join(dir, "sim.json")
	_, stop := startCommand(t, append([]string{"sim", "--listen", "127.0.0.1:0", "--info-file", info, "--history", "10m", "--users", "10"}, extra...)...)
	t.Cleanup(func() { stop() })
	var got struct {
		OrgURL     string `json:"orgUrl"`
		ServiceApp struct {
			ClientID, KeyID, PrivateKeyPem string
		} `json:"serviceApp"`
	}
	if err := json.Unmarshal(waitFile(t, info), &got); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(key, []byte(got.ServiceApp.PrivateKeyPem), 0o600); err != nil {
		t.Fatal(err)
	}
	return got.OrgURL, []string{"--client-id", got.ServiceApp.ClientID, "--key-id", got.ServiceApp.KeyID, "--private-key-file", key}
}

// TestAdHocVerifyUsesAddDefaults: verify --org-url with a service app granted every scope judges
// what integrations add would request (logs only). It used to report each granted scope as "not
// in the integration's scopes" and to ask for okta.roles.read, which the app holds.
func TestAdHocVerifyUsesAddDefaults(t *testing.T) {
	org, app := simApp(t)
	code, out, errOut := runCLI(t, "", append([]string{"verify", "--org-url", org}, app...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, bad := range []string{"not in the integration's scopes", "grant okta.roles.read", "WARN", "okta.sessions.manage"} {
		if strings.Contains(out, bad) {
			t.Errorf("output says %q:\n%s", bad, out)
		}
	}
	for _, want := range []string{
		"OK    Scope okta.logs.read: granted (for logs)\n",
		"logs: on\n",
		"inventory: off — grant okta.users.read, okta.groups.read, okta.roles.read, okta.schemas.read to the service app",
		"then add --features inventory\n",
		"response: off — grant okta.users.manage, okta.roles.read to the service app",
		"then add --features response\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The same org with every feature on checks their scopes, roles and attributes, all granted.
	out = mustCLI(t, append([]string{"verify", "--org-url", org, "--features", "inventory,response"}, app...)...)
	if strings.Contains(out, "WARN") || !strings.Contains(out, "inventory: on\nresponse: on\n") || !strings.Contains(out, "OK    Admin roles: roles: READ_ONLY_ADMIN, CUSTOM") {
		t.Fatalf("every feature:\n%s", out)
	}
}

// TestFeaturesAddUpdate adds a logs-only integration, turns inventory and response on with
// integrations update (keeping the credentials), and refuses unknown features and features whose
// scopes the app lacks, changing nothing.
func TestFeaturesAddUpdate(t *testing.T) {
	org, app := simApp(t, "--app-omit-scopes", "okta.users.manage")
	dd := "--data-dir=" + filepath.Join(t.TempDir(), "data")
	out := mustCLI(t, append([]string{"integrations", "add", dd, "--name", "acme", "--org-url", org}, app...)...)
	if !strings.Contains(out, "inventory: off — grant okta.users.read") || !strings.Contains(out, "then run idwatch integrations update acme --features inventory\n") {
		t.Fatalf("add:\n%s", out)
	}
	if in := listed(t, dd)["acme"]; len(in.Features) != 0 || len(in.Scopes) != 0 || !in.Enabled {
		t.Fatalf("added %+v", in.Integration)
	}

	code, _, errOut := runCLI(t, "", "integrations", "update", "acme", dd, "--features", "inventory,posture")
	if code != 2 || !strings.Contains(errOut, `unknown feature "posture": the features are inventory, response (logs is always on)`) {
		t.Fatalf("unknown feature: exit %d %s", code, errOut)
	}
	// The app lacks okta.users.manage: requesting it would make Okta refuse every token.
	code, out, _ = runCLI(t, "", "integrations", "update", "acme", dd, "--features", "inventory,response")
	if code != 1 || !strings.Contains(out, "FAIL  Scope okta.users.manage") || !strings.Contains(out, `or turn response off (--features "inventory")`) ||
		!strings.Contains(out, "acme: features not changed") {
		t.Fatalf("response without its scope: exit %d\n%s", code, out)
	}
	if in := listed(t, dd)["acme"]; len(in.Features) != 0 {
		t.Fatalf("features changed by a refused update: %v", in.Features)
	}

	// verify --integration --features checks what turning them on would need, changing nothing.
	out = mustCLI(t, "verify", dd, "--integration", "acme", "--features", "inventory")
	if !strings.Contains(out, "OK    Scope okta.groups.read: granted (for inventory)") || !strings.Contains(out, "inventory: on\n") {
		t.Fatalf("verify with features:\n%s", out)
	}
	if in := listed(t, dd)["acme"]; len(in.Features) != 0 {
		t.Fatalf("verify changed the features: %v", in.Features)
	}

	out = mustCLI(t, "integrations", "update", "acme", dd, "--features", "inventory")
	if !strings.Contains(out, "acme: features now logs, inventory; the service app requests okta.logs.read, okta.users.read, okta.groups.read, okta.roles.read, okta.schemas.read\n") {
		t.Fatalf("update:\n%s", out)
	}
	if in := listed(t, dd)["acme"]; !slices.Equal(in.Features, []string{"inventory"}) || !in.Enabled {
		t.Fatalf("updated %+v", in.Integration)
	}
	out = mustCLI(t, "verify", dd, "--integration", "acme")
	if !strings.Contains(out, "inventory: on\n") || !strings.Contains(out, "response: off — grant okta.users.manage") ||
		!strings.Contains(out, "then run idwatch integrations update acme --features inventory,response\n") {
		t.Fatalf("verify after update:\n%s", out)
	}
	mustCLI(t, "collect", dd, "--once")

	// New credentials with --features "" go back to logs only; without --features they keep them.
	mustCLI(t, append([]string{"integrations", "update", "acme", dd, "--features", ""}, app...)...)
	if in := listed(t, dd)["acme"]; len(in.Features) != 0 {
		t.Fatalf("features after update with credentials: %v", in.Features)
	}
	mustCLI(t, "integrations", "update", "acme", dd, "--features", "inventory")
	mustCLI(t, append([]string{"integrations", "update", "acme", dd}, app...)...)
	if in := listed(t, dd)["acme"]; !slices.Equal(in.Features, []string{"inventory"}) {
		t.Fatalf("features after a credential rotation: %v", in.Features)
	}
}

// TestPrintFeatures pins the per-feature lines of a report.
func TestPrintFeatures(t *testing.T) {
	for _, tc := range []struct {
		name        string
		integration string
		f           collect.FeatureState
		want        string
	}{
		{"on", "acme", collect.FeatureState{Name: "logs", On: true, Working: true}, "logs: on\n"},
		{"broken", "acme", collect.FeatureState{Name: "inventory", On: true, Fix: "grant okta.groups.read"}, "inventory: on, not working — grant okta.groups.read\n"},
		{"off, stored", "acme", collect.FeatureState{Name: "response", Fix: "grant okta.users.manage to the service app", Flag: "inventory,response"},
			"response: off — grant okta.users.manage to the service app, then run idwatch integrations update acme --features inventory,response\n"},
		{"off, ad hoc", "", collect.FeatureState{Name: "inventory", Fix: "give the API token's admin Read-Only Administrator (Security > Administrators)", Flag: "inventory"},
			"inventory: off — give the API token's admin Read-Only Administrator (Security > Administrators), then add --features inventory\n"},
		{"ready", "acme", collect.FeatureState{Name: "inventory", Ready: true, Flag: "inventory"},
			"inventory: off — the API token's admin already has the role it needs: run idwatch integrations update acme --features inventory\n"},
	} {
		var b bytes.Buffer
		printFeatures(stdio{out: &b}, collect.Report{Integration: tc.integration, Features: []collect.FeatureState{tc.f}})
		if b.String() != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, b.String(), tc.want)
		}
	}
}
