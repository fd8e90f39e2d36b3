package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
)

// Retention trims a journal on a schedule. An entry goes once it was stored more than Keep ago
// and every journal consumer (processor, sinks) has committed it; the store's cap, when set,
// also removes the oldest entries beyond it even if a consumer still needs them.
type Retention struct {
	Journal Journal
	// Keep is how long an entry stays at least, read or not: it bounds how far back `idwatch
	// replay`, the processor's restart replay and deduplication of re-polled events reach.
	Keep time.Duration
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
	if r.Interval <= 0 {
		errs = append(errs, fmt.Errorf("trim interval %s must be positive", r.Interval))
	}
	return errors.Join(errs...)
}

// Trim runs one trim now.
func (r Retention) Trim(ctx context.Context) (TrimResult, error) {
	before, err := r.Journal.SeqStoredSince(ctx, r.clock().Now().Add(-r.Keep))
	if err != nil {
		return TrimResult{}, err
	}
	return r.Journal.TrimJournal(ctx, before)
}

// Run trims at once and then every Interval until ctx ends; a failed trim is logged and tried
// again at the next interval, as a journal that grows for a while harms nothing else.
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
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			log.Warn("journal retention: trim failed; trying again later", "err", err, "retry_in", r.Interval)
		case res.Removed > 0:
			log.Info("journal retention: trimmed", "removed", res.Removed, "first_seq", res.FirstSeq, "forced", res.Forced)
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
