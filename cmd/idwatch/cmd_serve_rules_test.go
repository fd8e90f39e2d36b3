package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/oktasim"
)

// TestServeUserRulesWithPlaceholders runs serve --once with a rules directory holding a
// placeholder rule, defined by the configuration's placeholders section, and a broken rule: the
// broken file is reported and left out, the placeholder rule alerts on the outsider only, and
// process.strict_rules makes the broken file fatal.
func TestServeUserRulesWithPlaceholders(t *testing.T) {
	org := startSimOrg(t, oktasim.Config{})
	now := time.Now().UTC()
	for i, actor := range []string{"ann@example.com", "eve@evil.test"} {
		raw := fmt.Sprintf(`{"uuid":%q,"published":%q,"eventType":"user.session.impersonation.grant","version":"0","severity":"INFO","actor":{"id":"00u%d","type":"User","alternateId":%q}}`,
			simEventID(i), now.Add(-30*time.Minute+time.Duration(i)*time.Second).Format(time.RFC3339Nano), i, actor)
		if _, err := org.srv.AppendRaw([]byte(raw), 0); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	dd := org.addIntegration(t, dir)
	rulesDir := filepath.Join(dir, "rules")
	if err := os.Mkdir(rulesDir, 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, rulesDir, "imp.yml", impRule)
	write(t, rulesDir, "broken.yml", brokenRule)
	cfg := "placeholders:\n  trusted_domains: ['@example.com']\nprocess:\n  rules_dir: rules\n"
	cfgPath := write(t, dir, "idwatch.yml", cfg)
	code, out, errOut := runCLI(t, "", "serve", dd, "--config", cfgPath, "--once")
	if code != 0 || !strings.Contains(errOut, filepath.Join(rulesDir, "broken.yml")+":5") {
		t.Fatalf("serve --once: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "", "alerts", "list", dd, "--json")
	if code != 0 {
		t.Fatalf("alerts: %d\n%s", code, errOut)
	}
	var evidence []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var a struct {
			RuleID string `json:"ruleId"`
			Body   struct {
				Info struct {
					Related []struct{ UID string } `json:"related_events"`
				} `json:"finding_info"`
			} `json:"body"`
		}
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatal(err)
		}
		if a.RuleID == "imp" {
			for _, r := range a.Body.Info.Related {
				evidence = append(evidence, r.UID)
			}
		}
	}
	if strings.Join(evidence, ",") != simEventID(1) {
		t.Fatalf("the placeholder rule alerted on %v, want only the outsider's event %s", evidence, simEventID(1))
	}
	write(t, dir, "idwatch.yml", cfg+"  strict_rules: true\n")
	code, out, errOut = runCLI(t, "", "serve", dd, "--config", cfgPath, "--once")
	if code == 0 || !strings.Contains(errOut, "broken.yml:5") {
		t.Fatalf("strict: %d\n%s\n%s", code, out, errOut)
	}
}
