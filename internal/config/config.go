// Package config reads the configuration file of `idwatch serve`: where the data lives, how
// collection and processing run, and which sinks share what was collected.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/detect/sigma"
	"github.com/idwatch/idwatch/internal/inventory"
	"github.com/idwatch/idwatch/internal/respond"
	"github.com/idwatch/idwatch/internal/server"
	"github.com/idwatch/idwatch/internal/sink"
	"github.com/idwatch/idwatch/internal/yamlerr"
)

// Config is the whole configuration file.
type Config struct {
	// DataDir holds the database and master key; empty means the command's default. A relative
	// path is resolved against the configuration file's directory.
	DataDir string  `yaml:"data_dir"`
	Storage Storage `yaml:"storage"`
	Collect Collect `yaml:"collect"`
	Process Process `yaml:"process"`
	// Inventory tunes the identity inventory of integrations with the inventory feature.
	Inventory inventory.Config `yaml:"inventory"`
	Hooks     Hooks            `yaml:"hooks"`
	// Placeholders defines the values of Sigma placeholders (%name% in rule values written with
	// the expand modifier), each a value or a list of values; they take precedence over the
	// rules folder's placeholders.yml (see docs/rules.md, Placeholders).
	Placeholders map[string]StringList `yaml:"placeholders"`
	// Respond configures response actions: which are allowed, protected users and groups, and
	// how far rules may act on their own (see docs/identity.md, Response actions).
	Respond respond.Config `yaml:"respond"`
	// Server is the REST API's listener, TLS and limits (see docs/configuration.md).
	Server server.Config `yaml:"server"`
	// Console configures the web console the server serves.
	Console Console `yaml:"console"`
	// Sinks are parsed and validated by internal/sink (see docs/sinks.md).
	Sinks []sink.Config `yaml:"-"`
}

// Console configures the web console.
type Console struct {
	// SecureCookies marks the session cookie Secure although the server speaks plain HTTP: set
	// it when a TLS-terminating proxy is in front (with TLS on the server itself, the cookie is
	// always Secure).
	SecureCookies bool `yaml:"secure_cookies"`
}

// Storage tunes the database.
type Storage struct {
	// Sync is "normal" (the default: every commit survives a crash of the process; on power loss
	// the last commits may be lost) or "full" (every commit survives power loss too, at the cost
	// of one fsync per commit). See docs/storage.md, Durability.
	Sync string `yaml:"sync"`
	// JournalKeep is how long a journal entry stays at least, read or not (default 168h); older
	// entries go once every consumer has committed them.
	JournalKeep time.Duration `yaml:"journal_keep"`
	// JournalMaxEntries caps the journal (0, the default: no cap); beyond it the oldest entries
	// go even if a sink has not delivered them, so that a sink dead for good cannot fill the disk.
	JournalMaxEntries int64 `yaml:"journal_max_entries"`
	// TrimInterval is the wait between retention runs (default 10m).
	TrimInterval time.Duration `yaml:"trim_interval"`
	// AlertsKeep is how long an alert is kept after it was stored (default 8760h, 365 days); older
	// alerts go once every alert sink has delivered them.
	AlertsKeep time.Duration `yaml:"alerts_keep"`
	// DeadLettersKeep is how long a dead letter is kept after its last failure (default 720h, 30
	// days); replay it or lose it.
	DeadLettersKeep time.Duration `yaml:"dead_letters_keep"`
	// IncidentsKeep is how long a resolved or false-positive incident is kept after it was closed
	// (default 8760h); open incidents are never trimmed.
	IncidentsKeep time.Duration `yaml:"incidents_keep"`
	// AuditKeep is reserved for the response audit trail (default 8760h).
	AuditKeep time.Duration `yaml:"audit_keep"`
	// CacheMiB bounds the database writer's page cache (default 32); MmapMiB lets reads map up
	// to that much of the database file (default 0: off). See docs/storage.md, Memory.
	CacheMiB int64 `yaml:"cache_mib"`
	MmapMiB  int64 `yaml:"mmap_mib"`
}

// Storage defaults.
const (
	DefaultJournalKeep     = 7 * 24 * time.Hour
	DefaultTrimInterval    = 10 * time.Minute
	DefaultAlertsKeep      = 365 * 24 * time.Hour
	DefaultDeadLettersKeep = 30 * 24 * time.Hour
	DefaultIncidentsKeep   = 365 * 24 * time.Hour
	DefaultAuditKeep       = 365 * 24 * time.Hour
)

// Validate checks the storage options.
func (s Storage) Validate() error {
	var errs []error
	switch s.Sync {
	case "", "normal", "full":
	default:
		errs = append(errs, fmt.Errorf("sync %q is neither normal nor full; use full to make every commit survive power loss", s.Sync))
	}
	if s.JournalKeep != 0 && s.JournalKeep < time.Hour {
		errs = append(errs, fmt.Errorf("journal_keep %s is under an hour; deduplication of re-polled events and the processor's restart replay need the recent journal, so keep at least 1h", s.JournalKeep))
	}
	if s.JournalMaxEntries < 0 {
		errs = append(errs, fmt.Errorf("journal_max_entries %d is negative; use 0 for no cap", s.JournalMaxEntries))
	}
	if s.CacheMiB != 0 && (s.CacheMiB < 1 || s.CacheMiB > 65536) {
		errs = append(errs, fmt.Errorf("cache_mib %d is outside 1..65536; leave it unset for the default 32", s.CacheMiB))
	}
	if s.MmapMiB < 0 {
		errs = append(errs, fmt.Errorf("mmap_mib %d is negative; use 0 to read without a memory map", s.MmapMiB))
	}
	if s.TrimInterval != 0 && s.TrimInterval < time.Minute {
		errs = append(errs, fmt.Errorf("trim_interval %s is under a minute; trimming that often only adds load", s.TrimInterval))
	}
	for _, k := range []struct {
		name string
		keep time.Duration
	}{{"alerts_keep", s.AlertsKeep}, {"dead_letters_keep", s.DeadLettersKeep}, {"incidents_keep", s.IncidentsKeep}, {"audit_keep", s.AuditKeep}} {
		if k.keep < 0 || (k.keep > 0 && k.keep < time.Hour) {
			errs = append(errs, fmt.Errorf("%s %s is under an hour; records would go before anyone could look at them, so keep at least 1h (0 or unset means the default)", k.name, k.keep))
		}
	}
	return errors.Join(errs...)
}

// Keep is JournalKeep, or DefaultJournalKeep when unset.
func (s Storage) Keep() time.Duration {
	if s.JournalKeep == 0 {
		return DefaultJournalKeep
	}
	return s.JournalKeep
}

// Interval is TrimInterval, or DefaultTrimInterval when unset.
func (s Storage) Interval() time.Duration {
	if s.TrimInterval == 0 {
		return DefaultTrimInterval
	}
	return s.TrimInterval
}

// AlertsKeepOrDefault is AlertsKeep, or DefaultAlertsKeep when unset.
func (s Storage) AlertsKeepOrDefault() time.Duration {
	return orDefault(s.AlertsKeep, DefaultAlertsKeep)
}

// IncidentsKeepOrDefault is IncidentsKeep, or DefaultIncidentsKeep when unset.
func (s Storage) IncidentsKeepOrDefault() time.Duration {
	return orDefault(s.IncidentsKeep, DefaultIncidentsKeep)
}

// DeadLettersKeepOrDefault is DeadLettersKeep, or DefaultDeadLettersKeep when unset.
func (s Storage) DeadLettersKeepOrDefault() time.Duration {
	return orDefault(s.DeadLettersKeep, DefaultDeadLettersKeep)
}

// orDefault returns d, or def when d is unset.
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// SyncFull reports whether every commit must survive power loss.
func (s Storage) SyncFull() bool { return s.Sync == "full" }

// Collect tunes the collection of every enabled integration.
type Collect struct {
	// Share is the largest share (0-1] of any Okta rate-limit bucket idwatch may use; default 0.5.
	Share float64 `yaml:"share"`
	// Lookback is how far back a new integration's first poll starts (default 1h, at most 90 days).
	Lookback time.Duration `yaml:"lookback"`
	// PollInterval is the wait between polls once caught up (default 15s).
	PollInterval time.Duration `yaml:"poll_interval"`
	// Overlap is the re-read window used when Okta refuses the stored cursor (default 10m).
	Overlap time.Duration `yaml:"overlap"`
	// PageLimit is the System Log page size, 1-1000 (default 1000).
	PageLimit int `yaml:"page_limit"`
}

// Process controls normalization and detection of collected events.
type Process struct {
	// Enabled runs the processor (default true).
	Enabled *bool `yaml:"enabled"`
	// RulesDir is an optional directory of Sigma rules run with the built-in ones; a relative
	// path is resolved against the configuration file's directory.
	RulesDir string `yaml:"rules_dir"`
	// StrictRules makes a user rule file that fails to load stop the processor; by default the
	// file is left out, reported with its file, line and reason, and the other rules run.
	StrictRules bool `yaml:"strict_rules"`
	// IncidentWindow is how long after an incident's last alert a new alert of its entities still
	// joins it (default 24h).
	IncidentWindow time.Duration `yaml:"incident_window"`
	// IncidentReopen is how long after a closed incident's last alert a new alert of it reopens
	// it (default 24h).
	IncidentReopen time.Duration `yaml:"incident_reopen"`
}

// StringList is a YAML string or list of strings.
type StringList []string

// UnmarshalYAML accepts a single string as a list of one.
func (l *StringList) UnmarshalYAML(unmarshal func(any) error) error {
	var one string
	if err := unmarshal(&one); err == nil {
		*l = StringList{one}
		return nil
	}
	var many []string
	if err := unmarshal(&many); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*l = many
	return nil
}

// PlaceholderMap returns the placeholders as a source for rule compilation (nil when none).
// Validate has checked them.
func (c Config) PlaceholderMap() sigma.PlaceholderMap {
	if len(c.Placeholders) == 0 {
		return nil
	}
	m, _ := sigma.NewPlaceholderMap(c.placeholderDefs())
	return m
}

func (c Config) placeholderDefs() map[string][]string {
	defs := make(map[string][]string, len(c.Placeholders))
	for k, v := range c.Placeholders {
		defs[k] = v
	}
	return defs
}

// DefaultShare is the rate-limit share used when collect.share is not set.
const DefaultShare = 0.5

// On reports whether the processor runs.
func (p Process) On() bool { return p.Enabled == nil || *p.Enabled }

// Validate checks the collection options.
func (c Collect) Validate() error {
	var errs []error
	if c.Share < 0 || c.Share > 1 {
		errs = append(errs, fmt.Errorf("share %g is outside (0, 1]; use e.g. 0.5 to leave half of each Okta rate limit to other clients", c.Share))
	}
	if err := c.Tuning().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Tuning returns the collector configuration these options describe; unset fields keep the
// collector's defaults.
func (c Collect) Tuning() collect.Config {
	return collect.Config{Lookback: c.Lookback, PollInterval: c.PollInterval, Overlap: c.Overlap, PageLimit: c.PageLimit}
}

// ShareOrDefault is Share, or DefaultShare when unset.
func (c Collect) ShareOrDefault() float64 {
	if c.Share == 0 {
		return DefaultShare
	}
	return c.Share
}

// Validate checks the processing options.
func (p Process) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"incident_window", p.IncidentWindow}, {"incident_reopen", p.IncidentReopen}} {
		if d.v != 0 && (d.v < time.Minute || d.v > 90*24*time.Hour) {
			return fmt.Errorf("%s %s is outside 1m..2160h (0 or unset means the default, 24h)", d.name, d.v)
		}
	}
	if p.RulesDir == "" || !p.On() {
		return nil
	}
	fi, err := os.Stat(p.RulesDir)
	if err != nil {
		return fmt.Errorf("rules_dir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("rules_dir %s is not a directory", p.RulesDir)
	}
	return nil
}

// Validate checks every section.
func (c Config) Validate() error {
	var errs []error
	if err := c.Storage.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("storage: %w", err))
	}
	if err := c.Collect.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("collect: %w", err))
	}
	if err := c.Process.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("process: %w", err))
	}
	if err := c.Respond.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("respond: %w", err))
	}
	if err := c.Inventory.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Hooks.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("hooks: %w", err))
	}
	if err := c.Server.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("server: %w", err))
	}
	if _, err := sigma.NewPlaceholderMap(c.placeholderDefs()); err != nil {
		errs = append(errs, fmt.Errorf("placeholders: %w", err))
	}
	for _, s := range c.Sinks {
		if err := s.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("sinks: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Parse reads a configuration; relative paths in it are resolved against baseDir. Unknown keys
// are errors, so a misspelt option is reported instead of silently ignored.
func Parse(data []byte, baseDir string) (Config, error) {
	var doc struct {
		Config `yaml:",inline"`
		// Sinks is only a placeholder so the strict decoder accepts the section; sink parses it.
		Sinks []map[string]any `yaml:"sinks"`
	}
	if err := decodeStrict(data, &doc); err != nil {
		return Config{}, yamlerr.Explain(err, data, reflect.TypeOf(Config{}), yamlerr.Options{Keys: []string{"sinks"}})
	}
	c := doc.Config
	c.DataDir = resolve(baseDir, c.DataDir)
	c.Process.RulesDir = resolve(baseDir, c.Process.RulesDir)
	c.Hooks.TLSCert, c.Hooks.TLSKey = resolve(baseDir, c.Hooks.TLSCert), resolve(baseDir, c.Hooks.TLSKey)
	// Report every problem in the file at once, the sinks' included.
	sinks, sinkErr := sink.ParseConfigs(data)
	c.Sinks = sinks
	if err := errors.Join(c.Validate(), sinkErr); err != nil {
		return Config{}, err
	}
	return c, nil
}

// SinksIn returns the sinks with every file sink's relative path resolved against dataDir (see
// SinkIn).
func (c Config) SinksIn(dataDir string) []sink.Config {
	out := make([]sink.Config, len(c.Sinks))
	for i, s := range c.Sinks {
		out[i] = SinkIn(s, dataDir)
	}
	return out
}

// SinkIn returns s with a file sink's relative path resolved against dataDir: the data directory
// exists and is writable wherever serve runs, so `path: okta-events.jsonl` works as it is, for any
// user, wherever the configuration file lives. Other sinks are returned as they are.
func SinkIn(s sink.Config, dataDir string) sink.Config {
	if f, ok := s.Spec.(*sink.FileConfig); ok && f.Path != "" && !filepath.IsAbs(f.Path) && dataDir != "" {
		resolved := *f
		resolved.Path = filepath.Join(dataDir, f.Path)
		s.Spec = &resolved
	}
	return s
}

// Load reads and validates the configuration file at path.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c, err := Parse(data, filepath.Dir(path))
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func resolve(base, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// decodeStrict decodes YAML refusing unknown keys; a panic inside the decoder on malformed
// input becomes an error. Errors are the decoder's, for explain to word.
func decodeStrict(data []byte, dst any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the YAML is malformed (decoder failed: %v)", p)
		}
	}()
	return yaml.UnmarshalWithOptions(data, dst, yaml.Strict())
}
