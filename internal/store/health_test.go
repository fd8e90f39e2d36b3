package store

import (
	"testing"
	"time"
)

func TestHealthLagAt(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		h    Health
		want time.Duration
	}{
		{"collecting, just updated", Health{State: HealthCollecting, Lag: 5 * time.Second, UpdatedAt: now, LastEventAt: now.Add(-time.Hour)}, 5 * time.Second},
		{"collecting, updated a minute ago", Health{State: HealthCollecting, Lag: 5 * time.Second, UpdatedAt: now.Add(-time.Minute), LastEventAt: now.Add(-time.Hour)}, 65 * time.Second},
		{"error since the last event", Health{State: HealthError, Lag: 0, UpdatedAt: now.Add(-time.Minute), LastEventAt: now.Add(-2 * time.Hour)}, 2 * time.Hour},
		{"degraded", Health{State: HealthDegraded, UpdatedAt: now, LastEventAt: now.Add(-30 * time.Minute)}, 30 * time.Minute},
		{"error, nothing ever collected", Health{State: HealthError}, 0},
		{"clock behind the record", Health{State: HealthCollecting, Lag: time.Second, UpdatedAt: now.Add(time.Hour)}, time.Second},
	} {
		if got := tc.h.LagAt(now); got != tc.want {
			t.Errorf("%s: LagAt = %s, want %s", tc.name, got, tc.want)
		}
	}
}
