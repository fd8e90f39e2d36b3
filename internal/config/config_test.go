package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/sink"
)

// TestBadConfigs loads every testdata/*.bad.yml and checks the error names the problem.
func TestBadConfigs(t *testing.T) {
	want := map[string]string{
		"unknown_key.bad.yml":        `unknown field "colect"`,
		"share.bad.yml":              "share 1.5 is outside (0, 1]",
		"lookback.bad.yml":           "lookback 2400h0m0s is outside",
		"poll_interval.bad.yml":      "poll interval -5s is negative",
		"duration.bad.yml":           "ten minutes",
		"process_key.bad.yml":        `unknown field "rules"`,
		"rules_dir.bad.yml":          "rules_dir",
		"incident_window.bad.yml":    "incident_window 30s is outside 1m..2160h",
		"incident_reopen.bad.yml":    "incident_reopen -1h0m0s is outside 1m..2160h",
		"sink_type.bad.yml":          `unknown type "carrier-pigeon"`,
		"sink_option.bad.yml":        `unknown field "max_byte"`,
		"malformed.bad.yml":          "line 1: sequence end token ']' not found",
		"page_limit.bad.yml":         "page limit 5000 is outside 1..1000",
		"storage_sync.bad.yml":       `storage: sync "always" is neither normal nor full`,
		"journal_keep.bad.yml":       "journal_keep 10m0s is under an hour",
		"alerts_keep.bad.yml":        "alerts_keep 30m0s is under an hour",
		"dead_letters_keep.bad.yml":  "dead_letters_keep -24h0m0s is under an hour",
		"incidents_keep.bad.yml":     "incidents_keep 1s is under an hour",
		"respond_action.bad.yml":     `respond: actions: unknown action "nuke"`,
		"respond_key.bad.yml":        `unknown field "protected_user"`,
		"cache_mib.bad.yml":          "cache_mib 100000 is outside 1..65536",
		"mmap_mib.bad.yml":           "mmap_mib -1 is negative",
		"alert_keep_typo.bad.yml":    `unknown field "alert_keep"`,
		"placeholders_empty.bad.yml": "placeholders: placeholder okta_admins has no value",
		"placeholders_case.bad.yml":  "placeholders: placeholders Admins and admins differ only in case",
		"placeholders_type.bad.yml":  "want a string or a list of strings",
		"inventory_interval.bad.yml": "inventory.interval must be at least 1h",
		"inventory_expect.bad.yml":   `inventory.posture: expect_ad_link must be ad-sourced, all or none, got "sometimes"`,
		"inventory_attr.bad.yml":     `inventory.ad_attributes.sid "object-sid" is not an Okta variable name`,
		// Type errors name the line, the key, what the value is and what the key wants.
		"poll_interval_number.bad.yml": "line 2: collect.poll_interval: 15 is a number; want a duration such as 15s",
		"enabled_text.bad.yml":         `line 2: process.enabled: "yes please" is text; want true or false`,
		"collect_scalar.bad.yml":       `line 1: collect: "fast" is text; want a mapping: key: value lines indented below it (keys: share, lookback, poll_interval, overlap, page_limit)`,
		"sinks_scalar.bad.yml":         `line 1: sinks: "archive" is text; want a list`,
		"page_limit_text.bad.yml":      `line 2: collect.page_limit: "lots" is text; want a whole number`,
		"share_text.bad.yml":           `line 2: collect.share: "half" is text; want a number such as 0.5`,
		"data_dir_list.bad.yml":        "line 1: data_dir: the value is a list; want text",
		"duration_days.bad.yml":        `line 2: storage.journal_keep: "7d" is not a duration; want a number and a unit (ms, s, m, h), such as 15s, 10m or 168h (there is no day unit`,
		"near_miss_key.bad.yml":        `line 3: collect: unknown field "pol_interval"; did you mean poll_interval?`,
		"sink_carry_text.bad.yml":      `sinks[0]: carry: "event" is text; want a list`,
		"sink_duration_number.bad.yml": `sinks[0]: sink "archive" (file): max_age: 24 is a number; want a duration such as 24s`,
		"sink_near_miss.bad.yml":       `sinks[0]: sink "archive" (file): unknown field "cary"; did you mean carry?`,
		"near_miss_section.bad.yml":    `line 1: unknown field "storag"; did you mean storage?`,
		"hooks_public_http.bad.yml":    `hooks: listen "0.0.0.0:8443" is not a loopback address, so Okta would deliver over plain HTTP: set tls_cert and tls_key`,
		"hooks_listen.bad.yml":         `hooks: listen "8443" is not host:port`,
		"hooks_half_tls.bad.yml":       "hooks: tls_cert and tls_key go together",
		"hooks_tls_missing.bad.yml":    "hooks: tls_cert",
		"hooks_tls_no_listen.bad.yml":  "tls_cert and tls_key apply to hooks.listen",
		"hooks_body.bad.yml":           "hooks: max_body_bytes 100 is outside 65536..67108864",
		"hooks_key.bad.yml":            `line 2: hooks: unknown field "listn"; did you mean listen?`,
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.bad.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Fatalf("%d bad configs in testdata, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			w, ok := want[filepath.Base(f)]
			if !ok {
				t.Fatal("no expected error for this file")
			}
			_, err := Load(f)
			if err == nil {
				t.Fatal("loaded without error")
			}
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("error %q does not contain %q", err, w)
			}
		})
	}
}

// TestExampleConfig loads the documented example and checks values and resolved paths.
func TestExampleConfig(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "docs", "examples", "idwatch.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "" || c.Collect.ShareOrDefault() != 0.5 || c.Collect.PollInterval != 15*time.Second {
		t.Fatalf("unexpected values: %+v", c)
	}
	if !c.Process.On() || len(c.Sinks) != 1 || c.Sinks[0].Name != "archive" {
		t.Fatalf("unexpected process or sinks: %+v", c)
	}
	if c.Storage.SyncFull() {
		t.Fatal("the example's storage.sync normal reads as full")
	}
}

// TestDefaultsAndRelativePaths checks an almost empty file and relative path resolution.
func TestDefaultsAndRelativePaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rules"), 0o700); err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte("data_dir: data\nprocess:\n  rules_dir: rules\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != filepath.Join(dir, "data") || c.Process.RulesDir != filepath.Join(dir, "rules") {
		t.Fatalf("paths not resolved: %+v", c)
	}
	if !c.Process.On() || c.Collect.ShareOrDefault() != DefaultShare || len(c.Sinks) != 0 || c.Storage.SyncFull() {
		t.Fatalf("defaults: %+v", c)
	}
	if c, err := Parse([]byte("storage: {sync: full}\n"), dir); err != nil || !c.Storage.SyncFull() {
		t.Fatalf("storage.sync full: %v %+v", err, c)
	}
	if c.Storage.Keep() != DefaultJournalKeep || c.Storage.Interval() != DefaultTrimInterval || c.Storage.JournalMaxEntries != 0 ||
		c.Storage.AlertsKeepOrDefault() != 365*24*time.Hour || c.Storage.DeadLettersKeepOrDefault() != 30*24*time.Hour {
		t.Fatalf("storage defaults: %+v", c.Storage)
	}
	c, err = Parse([]byte("storage: {alerts_keep: 720h, dead_letters_keep: 48h, incidents_keep: 8760h, audit_keep: 17520h}\n"), dir)
	if err != nil || c.Storage.AlertsKeepOrDefault() != 720*time.Hour || c.Storage.DeadLettersKeepOrDefault() != 48*time.Hour ||
		c.Storage.AuditKeep != 17520*time.Hour {
		t.Fatalf("storage retention settings: %v %+v", err, c.Storage)
	}
	c, err = Parse([]byte("process: {enabled: false, rules_dir: missing}\n"), dir)
	if err != nil || c.Process.On() {
		t.Fatalf("disabled processing: %v %+v", err, c)
	}
}

// FuzzParse checks that no input makes the parser panic.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.bad.yml"))
	for _, fn := range append(files, filepath.Join("..", "..", "docs", "examples", "idwatch.yml")) {
		b, err := os.ReadFile(fn)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Parse(data, t.TempDir())
	})
}

// TestPlaceholders reads the placeholders section: a value or a list, names case-insensitive.
func TestPlaceholders(t *testing.T) {
	c, err := Parse([]byte("placeholders:\n  Trusted_Domains: '@example.com'\n  okta_admins: [alice@example.com, bob@example.com]\nprocess:\n  strict_rules: true\n"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := c.PlaceholderMap()
	if v, ok := m.Placeholder("trusted_domains"); !ok || len(v) != 1 || v[0] != "@example.com" {
		t.Fatalf("trusted_domains = %v %v", v, ok)
	}
	if v, _ := m.Placeholder("OKTA_ADMINS"); len(v) != 2 {
		t.Fatalf("okta_admins = %v", v)
	}
	if !c.Process.StrictRules {
		t.Fatal("strict_rules not read")
	}
	if c, _ := Parse([]byte("data_dir: d\n"), t.TempDir()); c.PlaceholderMap() != nil || c.Process.StrictRules {
		t.Fatalf("defaults: %+v", c)
	}
}

// TestFileSinkPathsInDataDir checks that a file sink's relative path is resolved against the data
// directory, an absolute one is kept, and the parsed configuration is left as it was.
func TestFileSinkPathsInDataDir(t *testing.T) {
	c, err := Parse([]byte("sinks:\n  - {name: a, type: file, path: out/a.jsonl}\n  - {name: b, type: file, path: /srv/b.jsonl}\n  - {name: c, type: webhook, url: 'https://siem.example.com/in'}\n"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got := c.SinksIn("/home/u/.local/share/idwatch")
	if p := got[0].Spec.(*sink.FileConfig).Path; p != "/home/u/.local/share/idwatch/out/a.jsonl" {
		t.Errorf("relative path resolved to %s", p)
	}
	if p := got[1].Spec.(*sink.FileConfig).Path; p != "/srv/b.jsonl" {
		t.Errorf("absolute path changed to %s", p)
	}
	if got[2].Spec != c.Sinks[2].Spec {
		t.Error("a webhook sink was changed")
	}
	if p := c.Sinks[0].Spec.(*sink.FileConfig).Path; p != "out/a.jsonl" {
		t.Errorf("the parsed configuration was changed: %s", p)
	}
}
