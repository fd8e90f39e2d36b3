package collect

import (
	"context"
	"fmt"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/store"
)

// DefaultStatusEvery is how often serve and collect log a status line per integration.
const DefaultStatusEvery = time.Minute

// StatusLine is what one status line says about one integration.
type StatusLine struct {
	Integration string
	State       store.HealthState
	// Events were collected since the previous line (since the start, for the first); Total is
	// the running total.
	Events, Total int64
	Lag           time.Duration
	// BudgetShareUsed is the fraction (0..1) of the rate-limit budget in use.
	BudgetShareUsed float64
	Reason, Fix     string
}

// attrs are the line's fields for the log, in a fixed order. Reasons and fixes come from Explain
// and name no credential.
func (l StatusLine) attrs() []any {
	a := []any{"integration", l.Integration, "state", string(l.State), "events", l.Events, "total", l.Total,
		"lag", l.Lag.Round(time.Second).String(), "budget", fmt.Sprintf("%.0f%%", l.BudgetShareUsed*100)}
	if l.Reason != "" {
		a = append(a, "reason", l.Reason)
	}
	if l.Fix != "" {
		a = append(a, "fix", l.Fix)
	}
	return a
}

// statusCounter remembers each integration's total at the previous line.
type statusCounter map[int64]int64

// statusLines returns a line per selected integration, counting events since the totals in prev
// and updating prev; lag is measured at the manager clock's now.
func (m *Manager) statusLines(ctx context.Context, prev statusCounter) ([]StatusLine, error) {
	ins, err := m.Selected(ctx)
	if err != nil {
		return nil, err
	}
	hs, err := m.Health(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[int64]store.Health{}
	for _, h := range hs {
		byID[h.IntegrationID] = h
	}
	now := m.collect.Clock.Now()
	lines := make([]StatusLine, 0, len(ins))
	for _, in := range ins {
		h, ok := byID[in.ID]
		if !ok {
			h = store.Health{IntegrationID: in.ID, State: store.HealthPending}
		}
		if !in.Enabled {
			h.State = store.HealthDisabled
		}
		since, seen := prev[in.ID]
		if !seen {
			since = h.EventsCollected
		}
		prev[in.ID] = h.EventsCollected
		lines = append(lines, StatusLine{Integration: in.Name, State: h.State, Events: max(h.EventsCollected-since, 0), Total: h.EventsCollected,
			Lag: h.LagAt(now), BudgetShareUsed: h.BudgetShareUsed, Reason: h.Reason, Fix: h.Fix})
	}
	return lines, nil
}

// ReportStatus logs a status line per selected integration every interval of the manager's clock
// (DefaultStatusEvery when every is 0) until ctx ends; it returns ctx's error. The first line
// counts events from the call on.
func (m *Manager) ReportStatus(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		every = DefaultStatusEvery
	}
	prev := statusCounter{}
	if _, err := m.statusLines(ctx, prev); err != nil && ctx.Err() == nil {
		m.log.Warn("status lines: reading integrations failed; trying again at the next line", "error", err)
	}
	for {
		if err := clock.Sleep(ctx, m.collect.Clock, every); err != nil {
			return err
		}
		lines, err := m.statusLines(ctx, prev)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			m.log.Warn("status lines: reading integrations failed; trying again at the next line", "error", err)
			continue
		}
		for _, l := range lines {
			m.log.Info("integration status", l.attrs()...)
		}
	}
}
