package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
)

// Retention trims the journal, the alerts and the dead letters on a schedule, so that data
// holding users' identities is not kept for ever.
//
// A journal entry goes once it was stored more than Keep ago and every journal consumer
// (processor, sinks) has committed it; the store's cap, when set, also removes the oldest entries
// beyond it even if a consumer still needs them. Normalized records go with their entries. An
// alert goes once it was stored more than AlertsKeep ago and every alert consumer has committed
// it. A dead letter goes once its last failure is more than DeadLettersKeep ago and no replay
// holds it.
type Retention struct {
	Journal Journal
	// Keep is how long a journal entry stays at least, read or not: it bounds how far back
	// `idwatch replay`, the processor's restart replay and deduplication of re-polled events reach.
	Keep time.Duration
	// Alerts, when set, is trimmed to AlertsKeep.
	Alerts     Alerts
	AlertsKeep time.Duration
	// DeadLetters, when set, is trimmed to DeadLettersKeep after each letter's last failure.
	DeadLetters     DeadLetters
	DeadLettersKeep time.Duration
	// Incidents, when set, loses incidents closed more than IncidentsKeep ago, and incident
	// stream records older than that which every incident-stream consumer has read. Open incidents
	// are kept however old.
	Incidents     Incidents
	IncidentsKeep time.Duration
	// Identity, when set, loses identity stream records older than IdentityKeep that every
	// identity-stream consumer has read.
	Identity     IdentityStream
	IdentityKeep time.Duration
	// Interval is the wait between trims.
	Interval time.Duration
	Clock    clock.Clock
	Logger   *slog.Logger
}

// Validate checks the durations.
func (r Retention) Validate() error {
	var errs []error
	if r.Keep <= 0 {
		errs = append(errs, fmt.Errorf("journal keep %s must be positive", r.Keep))
	}
	if r.Alerts != nil && r.AlertsKeep <= 0 {
		errs = append(errs, fmt.Errorf("alerts keep %s must be positive", r.AlertsKeep))
	}
	if r.DeadLetters != nil && r.DeadLettersKeep <= 0 {
		errs = append(errs, fmt.Errorf("dead letters keep %s must be positive", r.DeadLettersKeep))
	}
	if r.Incidents != nil && r.IncidentsKeep <= 0 {
		errs = append(errs, fmt.Errorf("incidents keep %s must be positive", r.IncidentsKeep))
	}
	if r.Identity != nil && r.IdentityKeep <= 0 {
		errs = append(errs, fmt.Errorf("identity stream keep %s must be positive", r.IdentityKeep))
	}
	if r.Interval <= 0 {
		errs = append(errs, fmt.Errorf("trim interval %s must be positive", r.Interval))
	}
	return errors.Join(errs...)
}

// RetentionResult reports one Trim.
type RetentionResult struct {
	Journal TrimResult
	Alerts  AlertTrimResult
	// DeadLetters is the number of dead letters deleted.
	DeadLetters int64
	// Incidents is the number of closed incidents deleted.
	Incidents int64
	// Identity is the number of identity stream records deleted.
	Identity int64
}

// Trim runs one trim of every table now. A table that fails to trim does not stop the others;
// the errors are joined.
func (r Retention) Trim(ctx context.Context) (RetentionResult, error) {
	var res RetentionResult
	var errs []error
	now := r.clock().Now()
	if r.Journal != nil {
		before, err := r.Journal.SeqStoredSince(ctx, now.Add(-r.Keep))
		if err == nil {
			res.Journal, err = r.Journal.TrimJournal(ctx, before)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("journal: %w", err))
		}
	}
	if r.Alerts != nil {
		var err error
		if res.Alerts, err = r.Alerts.TrimAlerts(ctx, now.Add(-r.AlertsKeep)); err != nil {
			errs = append(errs, fmt.Errorf("alerts: %w", err))
		}
	}
	if r.DeadLetters != nil {
		var err error
		if res.DeadLetters, err = r.DeadLetters.TrimDeadLetters(ctx, now.Add(-r.DeadLettersKeep)); err != nil {
			errs = append(errs, fmt.Errorf("dead letters: %w", err))
		}
	}
	if r.Incidents != nil {
		var err error
		if res.Incidents, err = r.Incidents.TrimIncidents(ctx, now.Add(-r.IncidentsKeep)); err != nil {
			errs = append(errs, fmt.Errorf("incidents: %w", err))
		}
	}
	if r.Identity != nil {
		var err error
		if res.Identity, err = r.Identity.TrimIdentityStream(ctx, now.Add(-r.IdentityKeep)); err != nil {
			errs = append(errs, fmt.Errorf("identity stream: %w", err))
		}
	}
	return res, errors.Join(errs...)
}

// Run trims at once and then every Interval until ctx ends; a failed trim is logged and tried
// again at the next interval, as tables that grow for a while harm nothing else.
func (r Retention) Run(ctx context.Context) error {
	if err := r.Validate(); err != nil {
		return err
	}
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for {
		res, err := r.Trim(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			log.Warn("retention: trim failed; trying again later", "err", err, "retry_in", r.Interval)
		}
		if j := res.Journal; j.Removed > 0 {
			log.Info("journal retention: trimmed", "removed", j.Removed, "first_seq", j.FirstSeq, "forced", j.Forced)
		}
		if a := res.Alerts; a.Removed > 0 || a.Waiting > 0 {
			log.Info("alert retention: trimmed", "removed", a.Removed, "kept_for_sinks", a.Waiting)
		}
		if res.DeadLetters > 0 {
			log.Info("dead letter retention: trimmed", "removed", res.DeadLetters)
		}
		if res.Incidents > 0 {
			log.Info("incident retention: trimmed closed incidents", "removed", res.Incidents)
		}
		if res.Identity > 0 {
			log.Info("identity stream retention: trimmed", "removed", res.Identity)
		}
		if clock.Sleep(ctx, r.clock(), r.Interval) != nil {
			return nil
		}
	}
}

func (r Retention) clock() clock.Clock {
	if r.Clock == nil {
		return clock.System{}
	}
	return r.Clock
}
