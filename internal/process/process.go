// Package process is the processor stage: it reads the journal in seq order from its own
// consumer offset, normalizes each event to OCSF records, runs the detection engine on the raw
// event and on each record, and commits the alerts, its detection baselines and its offset in one
// transaction per batch (the records are derived again from the journal when delivered), so a crash never loses or doubles anything. Entries that
// arrive behind the detection watermark (a backfill, an event Okta stored late) are re-evaluated
// with the journal in published order, so the alerts do not depend on the arrival order. After a
// restart it rebuilds correlation windows by replaying the journal without raising alerts again.
package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/detect/sigma"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/incident"
	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/store"
)

// DefaultConsumer is the processor's consumer name in the store.
const DefaultConsumer = "processor"

// Config configures a Processor. Zero values select the defaults.
type Config struct {
	// Store holds the journal and receives records, alerts, state and the offset.
	Store store.Store
	// Logger receives warnings (skipped rules, undecodable entries); nil discards.
	Logger *slog.Logger
	// Clock stamps metadata.processed_time on records; nil means time.Now.
	Clock func() time.Time
	// Consumer is the processor's consumer name (default "processor").
	Consumer string
	// RulesDir is an optional directory of user rules, loaded with the built-in rules.
	RulesDir string
	// SkipBadRules leaves out user rule files that fail to load (each logged at error level and
	// listed by Warnings) instead of refusing to start.
	SkipBadRules bool
	// Placeholders supply Sigma placeholder values before the rules folder's placeholders.yml.
	Placeholders sigma.Placeholders
	// BatchSize is the number of journal entries per transaction (default 500). The batch's
	// entries and records are held in memory until it commits (about 5 KB per entry); batches of
	// 2000 measured no cheaper per event.
	BatchSize int
	// PollInterval is how long Run waits when the journal is caught up (default 1s).
	PollInterval time.Duration
	// IdleDelay is how far behind the clock Run moves the event time of integrations whose
	// journal is caught up (default 5m; negative: never), so absences and closing windows of a
	// quiet org fire. Events published before clock − IdleDelay − lateness then count as late and
	// are re-evaluated in published order (see LateSettle).
	IdleDelay time.Duration
	// LateSettle is how long no late entry of an integration (one published behind its engine's
	// watermark: a backfill, an event Okta stored late) must arrive before Run lets the
	// re-evaluation in published order run on to the newest entries and replace the live engine
	// (default 5m, the collector's longest retry wait). Until then it follows the late entries,
	// up to their newest time minus the lateness. ProcessAvailable does not wait.
	LateSettle time.Duration
	// Detect tunes each integration's engine; its Baseline is ignored (the processor persists
	// first_seen baselines in the store).
	Detect detect.Config
	// MaxBaselineEntries caps each integration's first_seen baseline (default 1,000,000).
	MaxBaselineEntries int
	// Incidents tunes how alerts are grouped into incidents (GroupIncidents).
	Incidents incident.Config
	// ReopenWithin is how long after a closed incident's last alert a new alert of it reopens it
	// (default 24h).
	ReopenWithin time.Duration
	// AlertConsumers read the alert stream from their own offsets after each cycle's alerts and
	// incidents are stored (response actions), so they act within the cycle that raised them.
	AlertConsumers []AlertConsumer
	// Enrichment, when set, resolves each record's actor and subject user against the identity
	// inventory (enrich.go): the records and alerts carry the AD link and admin roles, and rules
	// read them as actor.isAdmin, target.adSid, … It reflects the inventory at processing time.
	Enrichment Enrichment
	// Committed, when set, is called after each committed batch with the new offset (for metrics
	// and for callers that wait for the processor to catch up). It must not block.
	Committed func(offset int64)
	// Observe, when set, is called after each committed batch with its entries and the entries
	// that raised at least one alert (for freshness metrics). It must not block or keep them.
	Observe func(entries []store.Entry, alerting []*store.Entry)
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("no store"))
	}
	if c.BatchSize < 0 || c.BatchSize > 10_000 {
		errs = append(errs, fmt.Errorf("batch size %d is outside 0..10000", c.BatchSize))
	}
	if c.PollInterval < 0 || c.MaxBaselineEntries < 0 || c.LateSettle < 0 {
		errs = append(errs, errors.New("poll interval, late settle and baseline cap must not be negative"))
	}
	if err := c.Detect.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Incidents.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.ReopenWithin < 0 {
		errs = append(errs, errors.New("incident reopen window must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("processor config: %w", err)
	}
	return nil
}

func (c *Config) defaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Consumer == "" {
		c.Consumer = DefaultConsumer
	}
	if c.BatchSize == 0 {
		c.BatchSize = 500
	}
	if c.PollInterval == 0 {
		c.PollInterval = time.Second
	}
	if c.IdleDelay == 0 {
		c.IdleDelay = 5 * time.Minute
	}
	if c.LateSettle == 0 {
		c.LateSettle = 5 * time.Minute
	}
	if c.ReopenWithin == 0 {
		c.ReopenWithin = incident.DefaultWindow
	}
	if c.MaxBaselineEntries == 0 {
		c.MaxBaselineEntries = 1_000_000
	}
}

// AlertConsumer follows the alert stream from its own offset (see Config.AlertConsumers).
type AlertConsumer interface {
	ConsumeAlerts(ctx context.Context) error
}

// consumeAlerts runs the alert consumers in turn.
func (p *Processor) consumeAlerts(ctx context.Context) error {
	for _, c := range p.cfg.AlertConsumers {
		if err := c.ConsumeAlerts(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Stats counts what a processor did since it was created.
type Stats struct {
	// Entries counts journal entries processed, Records the OCSF records they normalized to (not
	// stored: derived again on delivery), Alerts the alerts they raised that were new.
	Entries, Records, Alerts int64
	// Undecodable counts entries that are not Okta events (skipped); Unevaluated counts inputs the
	// engine refused (for example without a readable time).
	Undecodable, Unevaluated int64
	// Flawed counts events kept and processed although some of their fields could not be read
	// (each is logged with its uuid, and its records list them in unmapped.unreadable_fields).
	Flawed int64
	// Replayed counts entries replayed to rebuild state after a (re)start.
	Replayed int64
	// Late counts entries that arrived behind their engine's watermark; CaughtUp the entries
	// re-evaluated in published order because of them.
	Late, CaughtUp int64
	// Offset is the seq of the last committed entry.
	Offset int64
}

// Processor is the processor stage. Use one per store: its methods must not be called
// concurrently.
type Processor struct {
	cfg      Config
	log      *slog.Logger
	rs       *detect.Ruleset
	norm     *normalize.Normalizer
	warnings []string
	span     time.Duration
	// disabled are the rules whose alerts are dropped; rulebook the store's rulebook version
	// they were loaded at.
	disabled map[string]bool
	rulebook int64

	// State, rebuilt from the store when ready is false (at start and after a failed commit).
	ready  bool
	offset int64
	integ  map[int64]*integration

	stats   Stats
	order   []*store.Entry    // processBatch's evaluation order, reused
	rawBuf  []byte            // the raw events of the batch in hand, reused by the next (readBatch)
	dec     event.Decoder     // the event in hand (evaluate)
	scratch normalize.Scratch // its records (normalize)
}

// integration is the detection state of one Okta org: correlation windows never mix orgs.
type integration struct {
	id      int64
	eng     *detect.Engine
	base    *baseline
	maxTime time.Time // newest event time seen
	touched bool      // maxTime changed since the last commit
	// late is the pending re-evaluation in published order of entries that arrived late (nil:
	// none); lateDirty is set when it changed since the last commit.
	late      *catchup
	lateDirty bool
}

// New loads the rules and registers the processor's consumer (from the start of the journal
// when new). A user rule that fails to load makes New fail with its file and line, unless
// SkipBadRules is set.
func New(ctx context.Context, cfg Config) (*Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	p := &Processor{cfg: cfg, log: cfg.Logger, norm: normalize.New()}
	if err := p.loadRules(ctx); err != nil {
		return nil, err
	}
	if _, err := cfg.Store.RegisterConsumer(ctx, cfg.Consumer, store.StreamJournal, 0); err != nil {
		return nil, fmt.Errorf("processor: %w", err)
	}
	return p, nil
}

// Warnings lists the problems the processor runs with (user rule files it skipped).
func (p *Processor) Warnings() []string { return append([]string(nil), p.warnings...) }

// Ruleset is the compiled rule set every integration's engine runs.
func (p *Processor) Ruleset() *detect.Ruleset { return p.rs }

// Stats returns the processor's counters.
func (p *Processor) Stats() Stats {
	s := p.stats
	s.Offset = p.offset
	return s
}

// engineConfig is the configured engine settings with b as the baseline.
func (p *Processor) engineConfig(b detect.Baseline) detect.Config {
	c := p.cfg.Detect
	c.Baseline = b
	return c
}

// Run processes the journal until ctx ends, waiting PollInterval whenever it is caught up. A
// failing batch is logged and retried after PollInterval (state is rebuilt from the store first),
// so Run returns only ctx's error.
func (p *Processor) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if err := p.syncRulebook(ctx); err != nil {
			p.log.Error("processor: the changed rules do not load; the previous ones keep running", "err", err)
		}
		n, err := p.processAvailable(ctx)
		if err == nil {
			var m int
			var more bool
			m, more, err = p.catchUp(ctx, false, 4*p.cfg.BatchSize)
			if more {
				n += max(m, 1)
			}
		}
		if n == 0 && err == nil && p.cfg.IdleDelay > 0 {
			err = p.AdvanceIdle(ctx, p.cfg.Clock().Add(-p.cfg.IdleDelay))
		}
		if err == nil {
			_, err = p.GroupIncidents(ctx)
		}
		if err == nil {
			err = p.consumeAlerts(ctx)
		}
		if err != nil && ctx.Err() == nil {
			p.log.Error("processor: batch failed; retrying", "offset", p.offset, "err", err)
		}
		if n > 0 && err == nil {
			t.Reset(0)
			continue
		}
		t.Reset(p.cfg.PollInterval)
	}
}

// ProcessAvailable processes every journal entry after the offset, batch by batch, then
// re-evaluates in published order what arrived late, and returns how many entries it processed.
// It stops at the first failure; what was committed before stays.
func (p *Processor) ProcessAvailable(ctx context.Context) (int, error) {
	n, err := p.processAvailable(ctx)
	if err != nil {
		return n, err
	}
	if _, _, err = p.catchUp(ctx, true, 4*p.cfg.BatchSize); err != nil {
		return n, err
	}
	if _, err = p.GroupIncidents(ctx); err != nil {
		return n, err
	}
	return n, p.consumeAlerts(ctx)
}

// processAvailable processes every journal entry after the offset with the live engines.
func (p *Processor) processAvailable(ctx context.Context) (int, error) {
	if !p.ready {
		if err := p.restore(ctx); err != nil {
			return 0, err
		}
	}
	n := 0
	for {
		entries, err := p.readBatch(ctx)
		if err != nil {
			return n, fmt.Errorf("processor: %w", err)
		}
		if len(entries) == 0 {
			return n, nil
		}
		if err := p.processBatch(ctx, entries); err != nil {
			// The engines saw events whose results were not stored: rebuild from the store.
			p.ready = false
			return n, err
		}
		n += len(entries)
	}
}

// readBatch reads the next batch after the offset. With a store that can, its events are
// decompressed into the buffer the previous batch used: nothing the processor keeps refers to a
// batch's raw events once it is evaluated (engine state, baselines and alerts hold copies), so one
// buffer serves every batch instead of an allocation the size of each.
func (p *Processor) readBatch(ctx context.Context) ([]store.Entry, error) {
	if r, ok := p.cfg.Store.(store.JournalBufferReader); ok {
		entries, buf, err := r.ReadJournalInto(ctx, p.offset, p.cfg.BatchSize, store.ReadFilter{}, p.rawBuf)
		p.rawBuf = buf
		return entries, err
	}
	return p.cfg.Store.ReadJournal(ctx, p.offset, p.cfg.BatchSize, store.ReadFilter{})
}
