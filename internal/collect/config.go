// Package collect polls each integration's Okta System Log into the journal exactly once: a
// poller per integration following Okta's polling cursor, a Manager running many of them with
// their health, bounded backfill jobs, and the verification of an integration's prerequisites.
package collect

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
)

// Defaults and bounds of Config.
const (
	DefaultLookback     = time.Hour
	MaxLookback         = 90 * 24 * time.Hour
	DefaultPollInterval = 15 * time.Second
	DefaultOverlap      = 10 * time.Minute
	DefaultPageLimit    = 1000
	DefaultRetryBackoff = 2 * time.Second
	DefaultMaxBackoff   = 5 * time.Minute
)

// Config tunes live collection of one integration. The zero value gives the defaults.
type Config struct {
	// Lookback is how far back the first poll of a new integration starts (default 1h, at most 90d).
	Lookback time.Duration
	// PollInterval is the wait after a page shows the stream is caught up (default 15s).
	PollInterval time.Duration
	// Overlap is how far before the last published time polling restarts when Okta rejects the
	// stored cursor or it is lost (default 10m); uuid deduplication absorbs the re-read events.
	Overlap time.Duration
	// PageLimit is the System Log page size, 1–1000 (default 1000).
	PageLimit int
	// RetryBackoff is the first wait after a failed poll, doubled per consecutive failure up to
	// MaxBackoff (defaults 2s and 5m).
	RetryBackoff time.Duration
	MaxBackoff   time.Duration
	// Clock drives every wait and timestamp; nil is the system clock.
	Clock clock.Clock
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Lookback < 0 || c.Lookback > MaxLookback {
		errs = append(errs, fmt.Errorf("lookback %s is outside 0..%s (Okta keeps 90 days of System Log)", c.Lookback, MaxLookback))
	}
	if c.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("poll interval %s is negative", c.PollInterval))
	}
	if c.Overlap < 0 {
		errs = append(errs, fmt.Errorf("overlap %s is negative", c.Overlap))
	}
	if c.PageLimit < 0 || c.PageLimit > 1000 {
		errs = append(errs, fmt.Errorf("page limit %d is outside 1..1000", c.PageLimit))
	}
	if c.RetryBackoff < 0 || c.MaxBackoff < 0 {
		errs = append(errs, errors.New("retry backoff and max backoff must not be negative"))
	}
	return errors.Join(errs...)
}

// withDefaults fills unset fields.
func (c Config) withDefaults() Config {
	if c.Lookback == 0 {
		c.Lookback = DefaultLookback
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Overlap == 0 {
		c.Overlap = DefaultOverlap
	}
	if c.PageLimit == 0 {
		c.PageLimit = DefaultPageLimit
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxBackoff < c.RetryBackoff {
		c.MaxBackoff = c.RetryBackoff
	}
	if c.Clock == nil {
		c.Clock = clock.System{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
