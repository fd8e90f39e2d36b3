package sink

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/idwatch/idwatch/internal/yamlerr"
)

// Config is one configured sink: the options every sink shares plus its type's Spec.
type Config struct {
	// Name identifies the sink; its consumer offsets are "sink/<name>" and "sink/<name>/alerts".
	Name string `yaml:"name"`
	Type string `yaml:"type"`
	// Carry lists the record kinds delivered: event, ocsf, alert. Default: [event].
	Carry []Kind `yaml:"carry"`
	// Schemas keeps only OCSF records of these routing schemas (auth, cloudaudit, generic).
	Schemas []string `yaml:"schemas"`
	// Integrations keeps only records of these integrations (by name).
	Integrations []string `yaml:"integrations"`
	// EventTypes keeps only events and OCSF records of these Okta event types.
	EventTypes []string `yaml:"event_types"`
	// Start is where a new sink begins: "beginning" of the retained journal (default) or "end".
	Start string      `yaml:"start"`
	Batch BatchConfig `yaml:"batch"`
	Retry RetryConfig `yaml:"retry"`
	// Spec holds the type's own options.
	Spec Spec `yaml:"-"`
}

// BatchConfig bounds a batch by size and by time.
type BatchConfig struct {
	// MaxRecords flushes a batch when it holds this many records.
	MaxRecords int `yaml:"max_records"`
	// MaxWait flushes a non-empty batch this long after its first record was read.
	MaxWait time.Duration `yaml:"max_wait"`
}

// RetryConfig shapes retries of a failed batch.
type RetryConfig struct {
	// MaxAttempts is how many times a batch is tried before its records become dead letters.
	MaxAttempts int `yaml:"max_attempts"`
	// InitialBackoff is the wait after the first failure; it doubles up to MaxBackoff, with jitter.
	InitialBackoff time.Duration `yaml:"initial_backoff"`
	MaxBackoff     time.Duration `yaml:"max_backoff"`
}

// commonKeys are the option names Config owns; every other key belongs to the type's Spec.
var commonKeys = []string{"name", "type", "carry", "schemas", "integrations", "event_types", "start", "batch", "retry"}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// withDefaults fills unset shared options.
func (c Config) withDefaults() Config {
	if len(c.Carry) == 0 {
		c.Carry = []Kind{KindEvent}
	}
	if c.Start == "" {
		c.Start = "beginning"
	}
	if c.Batch.MaxRecords == 0 {
		c.Batch.MaxRecords = 1000
	}
	if c.Batch.MaxWait == 0 {
		c.Batch.MaxWait = time.Second
	}
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = 10
	}
	if c.Retry.InitialBackoff == 0 {
		c.Retry.InitialBackoff = 500 * time.Millisecond
	}
	if c.Retry.MaxBackoff == 0 {
		c.Retry.MaxBackoff = time.Minute
	}
	return c
}

// Validate checks the shared options and the Spec.
func (c Config) Validate() error {
	var errs []error
	if !nameRE.MatchString(c.Name) {
		errs = append(errs, fmt.Errorf("name %q: use 1 to 63 lowercase letters, digits, '_', '-' or '.'", c.Name))
	}
	seen := map[Kind]bool{}
	for _, k := range c.Carry {
		switch k {
		case KindEvent, KindOCSF, KindAlert, KindIncident, KindIdentity:
		default:
			errs = append(errs, fmt.Errorf("carry: unknown record kind %q (want event, ocsf, alert, incident or identity)", k))
		}
		if seen[k] {
			errs = append(errs, fmt.Errorf("carry: %q listed twice", k))
		}
		seen[k] = true
	}
	for _, s := range c.Schemas {
		if !slices.Contains([]string{"auth", "cloudaudit", "generic"}, s) {
			errs = append(errs, fmt.Errorf("schemas: unknown schema %q (want auth, cloudaudit or generic)", s))
		}
	}
	if len(c.Schemas) > 0 && !seen[KindOCSF] {
		errs = append(errs, errors.New("schemas filters OCSF records: add ocsf to carry"))
	}
	if c.Start != "beginning" && c.Start != "end" {
		errs = append(errs, fmt.Errorf("start: %q is not beginning or end", c.Start))
	}
	if c.Batch.MaxRecords < 1 || c.Batch.MaxRecords > 50_000 {
		errs = append(errs, fmt.Errorf("batch.max_records: %d is not between 1 and 50000", c.Batch.MaxRecords))
	}
	if c.Batch.MaxWait < time.Millisecond {
		errs = append(errs, fmt.Errorf("batch.max_wait: %s is below 1ms", c.Batch.MaxWait))
	}
	if c.Retry.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("retry.max_attempts: %d is below 1", c.Retry.MaxAttempts))
	}
	if c.Retry.InitialBackoff <= 0 || c.Retry.MaxBackoff < c.Retry.InitialBackoff {
		errs = append(errs, errors.New("retry: initial_backoff must be positive and max_backoff at least initial_backoff"))
	}
	if c.Spec == nil {
		errs = append(errs, fmt.Errorf("type %q has no options", c.Type))
	} else if err := c.Spec.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sink %q: %w", c.Name, err)
	}
	return nil
}

// ParseConfigs reads the `sinks:` section of a YAML configuration with the built-in registry. Other
// top-level sections are left to their owners; inside `sinks:` unknown options are errors.
func ParseConfigs(data []byte) ([]Config, error) {
	r, err := NewRegistry()
	if err != nil {
		return nil, err
	}
	return r.ParseConfigs(data)
}

// ParseConfigs reads the `sinks:` section of a YAML configuration into validated Configs.
func (r *Registry) ParseConfigs(data []byte) ([]Config, error) {
	var doc struct {
		Sinks []map[string]any `yaml:"sinks"`
	}
	if err := safeUnmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("sinks config: %w", err)
	}
	var (
		out   []Config
		errs  []error
		names = map[string]bool{}
	)
	for i, item := range doc.Sinks {
		c, err := r.parseOne(item)
		if err != nil {
			errs = append(errs, fmt.Errorf("sinks[%d]: %w", i, err))
			continue
		}
		if names[c.Name] {
			errs = append(errs, fmt.Errorf("sinks[%d]: name %q is used by another sink", i, c.Name))
		}
		names[c.Name] = true
		out = append(out, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func (r *Registry) parseOne(item map[string]any) (Config, error) {
	common, own := map[string]any{}, map[string]any{}
	for k, v := range item {
		if slices.Contains(commonKeys, k) {
			common[k] = v
		} else {
			own[k] = v
		}
	}
	var c Config
	if err := strictRemarshal(common, &c, nil); err != nil {
		return c, err
	}
	t, ok := r.Lookup(c.Type)
	if !ok {
		return c, fmt.Errorf("sink %q: unknown type %q (known: %s)", c.Name, c.Type, strings.Join(r.Names(), ", "))
	}
	c.Spec = t.New()
	if err := strictRemarshal(own, c.Spec, commonKeys); err != nil {
		return c, fmt.Errorf("sink %q (%s): %w", c.Name, c.Type, err)
	}
	c = c.withDefaults()
	return c, c.Validate()
}

// strictRemarshal decodes a generic map into dst, refusing keys dst does not have; keys in also
// are offered as suggestions for an unknown key too. The document decoded is not the user's
// file, so errors name the key without a line.
func strictRemarshal(m map[string]any, dst any, also []string) error {
	b, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	if err := safeUnmarshal(b, dst, yaml.Strict()); err != nil {
		return yamlerr.Explain(err, b, reflect.TypeOf(dst), yamlerr.Options{Keys: also, NoLines: true})
	}
	return nil
}

// safeUnmarshal turns a panic inside the YAML decoder (seen on malformed tagged input) into an
// error, so a bad config file is reported instead of crashing idwatch.
func safeUnmarshal(data []byte, dst any, opts ...yaml.DecodeOption) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the YAML is malformed (decoder failed: %v)", p)
		}
	}()
	return yaml.UnmarshalWithOptions(data, dst, opts...)
}
