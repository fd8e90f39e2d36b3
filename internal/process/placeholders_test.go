package process_test

// This test is in package process_test: the configuration package sits above process (it
// imports the server, which imports process), so only an external test may import it.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/config"
	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/process"
)

const placeholderRule = `title: Impersonation granted to an outsider
id: 7d0c6f4e-3c55-4a8e-9e0a-5f2b1c9d8e71
logsource: {product: okta}
detection:
    selection:
        eventType: user.session.impersonation.grant
    filter_trusted:
        actor.alternateId|contains|expand: '%trusted_domains%'
    condition: selection and not filter_trusted
level: medium
`

// TestPlaceholdersFromConfigAndRulesFolder loads a user rule with a placeholder defined in the
// configuration's placeholders section, which wins over the rules folder's placeholders.yml.
func TestPlaceholdersFromConfigAndRulesFolder(t *testing.T) {
	dir := writeRuleFiles(t, map[string]string{"imp.yml": placeholderRule})
	_, _, err := process.LoadRulesWith(process.RuleOptions{Dir: dir})
	want := "imp.yml:8: actor.alternateId|contains|expand: placeholder %trusted_domains% is not defined; define it under placeholders: in the configuration file, or in " + filepath.Join(dir, "placeholders.yml")
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("undefined placeholder: %v\nwant %s", err, want)
	}
	cfg, err := config.Parse([]byte("placeholders:\n  trusted_domains: ['@example.com', '@example.org']\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	// alerts counts the user rule's alerts (a built-in rule alerts on every impersonation grant).
	alerts := func(rs *detect.Ruleset, actor string) int {
		eng, err := detect.New(rs, detect.Config{})
		if err != nil {
			t.Fatal(err)
		}
		d, err := event.ParseDoc([]byte(`{"uuid":"u-` + actor + `","published":"2026-01-01T00:00:00Z","eventType":"user.session.impersonation.grant","actor":{"alternateId":"` + actor + `"}}`))
		if err != nil {
			t.Fatal(err)
		}
		as, err := eng.Process(detect.Input{Fields: d})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range as {
			if a.RuleID == "7d0c6f4e-3c55-4a8e-9e0a-5f2b1c9d8e71" {
				n++
			}
		}
		return n
	}
	rs, _, err := process.LoadRulesWith(process.RuleOptions{Dir: dir, Placeholders: cfg.PlaceholderMap()})
	if err != nil {
		t.Fatal(err)
	}
	if alerts(rs, "ann@example.org") != 0 || alerts(rs, "eve@evil.test") != 1 {
		t.Fatal("the configuration's trusted domains are not applied")
	}
	// The rules folder's file alone, then both: the configuration wins.
	dir2 := writeRuleFiles(t, map[string]string{"imp.yml": placeholderRule, "placeholders.yml": "placeholders:\n  Trusted_Domains: '@evil.test'\n"})
	rs, _, err = process.LoadRulesWith(process.RuleOptions{Dir: dir2})
	if err != nil {
		t.Fatal(err)
	}
	if alerts(rs, "eve@evil.test") != 0 || alerts(rs, "ann@example.org") != 1 {
		t.Fatal("the rules folder's placeholders are not applied")
	}
	rs, _, err = process.LoadRulesWith(process.RuleOptions{Dir: dir2, Placeholders: cfg.PlaceholderMap()})
	if err != nil {
		t.Fatal(err)
	}
	if alerts(rs, "ann@example.org") != 0 || alerts(rs, "eve@evil.test") != 1 {
		t.Fatal("the configuration does not take precedence over the rules folder")
	}
	// Skipping: the rule with the undefined placeholder is left out with a warning.
	_, warnings, err := process.LoadRulesWith(process.RuleOptions{Dir: dir, SkipBad: true})
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "%trusted_domains% is not defined") {
		t.Fatalf("skip: %v %q", err, warnings)
	}
}

// writeRuleFiles writes files into a new directory and returns it.
func writeRuleFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
