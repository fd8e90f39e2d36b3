package inventory

import (
	"context"
	"errors"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/store"
)

// Run keeps the inventory current until ctx ends: a full sync when there is none or the last
// one is older than the configured interval, and in between, every poll, the journal's new events.
// Errors are logged and retried at the next poll; the inventory keeps its last good state.
func (s *Service) Run(ctx context.Context, clk clock.Clock, poll time.Duration) error {
	if poll <= 0 {
		poll = 5 * time.Second
	}
	interval := s.Syncer.Config.WithDefaults().Interval
	// A failed sync is retried after a wait that doubles from a minute up to an hour, so that a
	// missing permission does not turn into a full read of the org every poll.
	var retryAt time.Time
	backoff := time.Minute
	for {
		if due, err := s.syncDue(ctx, clk.Now(), interval); err != nil {
			s.log().Warn("inventory: reading the last sync failed", "integration", s.IntegrationID, "error", err)
		} else if due && !clk.Now().Before(retryAt) {
			snap, err := s.Sync(ctx)
			if err != nil {
				retryAt = clk.Now().Add(backoff)
				s.log().Warn("inventory: full sync failed", "integration", s.IntegrationID, "error", err, "retry_in", backoff)
				backoff = min(2*backoff, time.Hour)
			} else {
				retryAt, backoff = time.Time{}, time.Minute
				s.log().Info("inventory: full sync done", "integration", s.IntegrationID, "users", snap.Sync.Users,
					"groups", snap.Sync.Groups, "apiCalls", Total(snap.Sync.APICalls))
			}
		}
		for ctx.Err() == nil {
			n, _, err := s.Step(ctx)
			if err != nil {
				s.log().Warn("inventory: applying events failed; retrying at the next poll", "integration", s.IntegrationID, "error", err)
				break
			}
			if n == 0 {
				break
			}
		}
		if err := clock.Sleep(ctx, clk, poll); err != nil {
			return nil
		}
	}
}

func (s *Service) syncDue(ctx context.Context, now time.Time, interval time.Duration) (bool, error) {
	snap, err := s.Store.LoadInventory(ctx, s.IntegrationID)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if s.index.Load() == nil {
		s.setIndex(&snap) // a restart answers lookups from the stored inventory
	}
	return now.Sub(snap.Sync.FinishedAt) >= interval, nil
}
