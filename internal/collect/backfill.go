package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store"
)

// DefaultBackfillWindow is the span of one bounded backfill read.
const DefaultBackfillWindow = 24 * time.Hour

// PageAppender stores a page of events; backfill passes a nil cursor so the live cursor never moves.
type PageAppender interface {
	AppendPage(ctx context.Context, integrationID int64, events []store.Event, cursor *store.Cursor) (store.AppendResult, error)
}

// BackfillConfig describes one backfill job.
type BackfillConfig struct {
	// IntegrationID is the integration the events are merged into.
	IntegrationID int64
	// Since and Until bound the published times to read; Until must be after Since, and Since
	// within Okta's 90-day retention.
	Since, Until time.Time
	// Window is the span of each bounded read (default 24h); windows run in ascending order.
	Window time.Duration
	// PageLimit is the page size, 1–1000 (default 1000).
	PageLimit int
	// MaxRetries is how many transient failures in a row are retried before the job stops
	// (default 10); the state saved so far lets a rerun resume.
	MaxRetries int
	// RetryBackoff is the first wait after a failure, doubled each time up to MaxBackoff
	// (defaults 2s and 5m).
	RetryBackoff time.Duration
	MaxBackoff   time.Duration
	// Clock and Logger default to the system clock and a discarding logger.
	Clock  clock.Clock
	Logger *slog.Logger
}

// Validate checks the job against Okta's retention and the collector's limits.
func (c BackfillConfig) Validate(now time.Time) error {
	var errs []error
	switch {
	case c.Since.IsZero() || c.Until.IsZero():
		errs = append(errs, errors.New("backfill needs both since and until"))
	case !c.Until.After(c.Since):
		errs = append(errs, fmt.Errorf("until %s is not after since %s", c.Until.Format(time.RFC3339), c.Since.Format(time.RFC3339)))
	case c.Since.Before(now.Add(-MaxLookback)):
		errs = append(errs, fmt.Errorf("since %s is more than 90 days ago; Okta keeps 90 days of System Log, so start at %s or later",
			c.Since.Format(time.RFC3339), now.Add(-MaxLookback).Add(time.Minute).Truncate(time.Minute).Format(time.RFC3339)))
	}
	if c.Window < 0 || c.PageLimit < 0 || c.PageLimit > 1000 || c.MaxRetries < 0 || c.RetryBackoff < 0 || c.MaxBackoff < 0 {
		errs = append(errs, errors.New("backfill window, page limit (1–1000), retries and backoffs must not be negative"))
	}
	return errors.Join(errs...)
}

// BackfillState is where a backfill job stands; saving it after each page lets a rerun resume.
type BackfillState struct {
	IntegrationID int64     `json:"integrationId"`
	Since         time.Time `json:"since"`
	Until         time.Time `json:"until"`
	// WindowStart is the start of the window being read; windows before it are complete.
	WindowStart time.Time `json:"windowStart"`
	// Next is the next page of the current window ("" to start the window afresh).
	Next string `json:"next,omitempty"`
	// Covered is the published time the job has read up to.
	Covered time.Time `json:"covered"`
	// Events counts events new to the journal; Duplicates those it already held; Requests the
	// pages fetched.
	Events     int64 `json:"events"`
	Duplicates int64 `json:"duplicates"`
	Requests   int64 `json:"requests"`
	// Done is true once every window is read.
	Done bool `json:"done"`
}

// Matches reports whether a saved state belongs to the same job (so it can be resumed).
func (s BackfillState) Matches(c BackfillConfig) bool {
	return s.IntegrationID == c.IntegrationID && s.Since.Equal(c.Since) && s.Until.Equal(c.Until)
}

// Progress is what the terminal shows while a backfill runs.
type Progress struct {
	BackfillState
	// Fraction is the share (0..1) of [Since, Until] read so far.
	Fraction float64
	// Rate is this run's new events per minute; ETA the estimated time left.
	Rate    float64
	ETA     time.Duration
	Elapsed time.Duration
}

// Backfill reads [Since, Until) in bounded windows in published order under the backfill lane and
// merges every event into the journal by uuid, without touching the live cursor. It resumes from
// state when given (a saved state of the same job); save, when set, is called after every page
// with the state to persist, and progress with what to show.
func Backfill(ctx context.Context, src LogSource, j PageAppender, cfg BackfillConfig, state *BackfillState,
	save func(BackfillState) error, progress func(Progress)) (BackfillState, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(cfg.Clock.Now()); err != nil {
		return BackfillState{}, err
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultBackfillWindow
	}
	if cfg.PageLimit == 0 {
		cfg.PageLimit = DefaultPageLimit
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 10
	}
	retry := Config{RetryBackoff: cfg.RetryBackoff, MaxBackoff: cfg.MaxBackoff}.withDefaults()
	st := BackfillState{IntegrationID: cfg.IntegrationID, Since: cfg.Since, Until: cfg.Until, WindowStart: cfg.Since, Covered: cfg.Since}
	if state != nil && state.Matches(cfg) {
		st = *state
	}
	ctx = okta.WithLane(ctx, okta.LaneBackfill)
	start, startCovered, startEvents := cfg.Clock.Now(), st.Covered, st.Events
	report := func() {
		if progress == nil {
			return
		}
		p := Progress{BackfillState: st, Elapsed: cfg.Clock.Now().Sub(start)}
		total := cfg.Until.Sub(cfg.Since)
		p.Fraction = min(max(float64(st.Covered.Sub(cfg.Since))/float64(total), 0), 1)
		if st.Done {
			p.Fraction = 1
		}
		if mins := p.Elapsed.Minutes(); mins > 0 {
			p.Rate = float64(st.Events-startEvents) / mins
			if read := st.Covered.Sub(startCovered); read > 0 && !st.Done {
				p.ETA = time.Duration(float64(p.Elapsed) * float64(cfg.Until.Sub(st.Covered)) / float64(read))
			}
		}
		progress(p)
	}
	failures := 0
	for !st.Done {
		end := st.WindowStart.Add(cfg.Window)
		if end.After(cfg.Until) {
			end = cfg.Until
		}
		target := st.Next
		if target == "" {
			u, err := src.LogsURL(okta.LogsQuery{Since: st.WindowStart, Until: end, Limit: cfg.PageLimit})
			if err != nil {
				return st, err
			}
			target = u
		}
		page, err := src.Logs(ctx, target)
		st.Requests++
		if err != nil {
			if ctx.Err() != nil {
				return st, ctx.Err()
			}
			state, _, _ := Explain(err)
			if state != store.HealthDegraded || failures >= cfg.MaxRetries {
				return st, fmt.Errorf("backfill window %s–%s: %w", st.WindowStart.Format(time.RFC3339), end.Format(time.RFC3339), err)
			}
			failures++
			wait := retry.RetryBackoff << min(failures-1, 16)
			if wait > retry.MaxBackoff || wait <= 0 {
				wait = retry.MaxBackoff
			}
			cfg.Logger.Warn("backfill page failed; retrying", "error", err, "retry_in", wait)
			if err := clock.Sleep(ctx, cfg.Clock, wait); err != nil {
				return st, err
			}
			continue
		}
		failures = 0
		events, newest, _ := decodeEvents(page.Items)
		res, err := j.AppendPage(ctx, cfg.IntegrationID, events, nil)
		if err != nil {
			return st, fmt.Errorf("%w: store backfill page: %w", errStore, err)
		}
		st.Events += int64(res.Inserted)
		st.Duplicates += int64(res.Duplicates)
		if newest.After(st.Covered) && newest.Before(end) {
			st.Covered = newest
		}
		if page.Next == "" || page.NextIsSelf || page.Next == target {
			st.WindowStart, st.Next, st.Covered = end, "", end
			st.Done = !end.Before(cfg.Until)
		} else {
			st.Next = page.Next
		}
		if save != nil {
			if err := save(st); err != nil {
				return st, fmt.Errorf("save backfill state: %w", err)
			}
		}
		report()
	}
	return st, nil
}
