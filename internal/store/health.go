package store

import (
	"context"
	"fmt"
	"time"
)

// HealthState is an integration's collection state.
type HealthState string

// The health states an integration moves through.
const (
	HealthPending    HealthState = "pending"
	HealthVerifying  HealthState = "verifying"
	HealthCollecting HealthState = "collecting"
	HealthDegraded   HealthState = "degraded"
	HealthError      HealthState = "error"
	HealthDisabled   HealthState = "disabled"
)

// Validate checks that s is a known state.
func (s HealthState) Validate() error {
	switch s {
	case HealthPending, HealthVerifying, HealthCollecting, HealthDegraded, HealthError, HealthDisabled:
		return nil
	}
	return fmt.Errorf("%w: unknown health state %q", ErrInvalid, string(s))
}

// Health is what the console and `idwatch integrations list` show about one integration.
type Health struct {
	IntegrationID int64       `json:"integrationId"`
	State         HealthState `json:"state"`
	// Reason says why the state is degraded or error; Fix says what the user should do.
	Reason string `json:"reason,omitempty"`
	Fix    string `json:"fix,omitempty"`
	// LastEventAt is the published time of the newest collected event.
	LastEventAt time.Time `json:"lastEventAt"`
	// Lag is how far collection trails real time.
	Lag time.Duration `json:"lag"`
	// EventsCollected and RequestsMade are running totals.
	EventsCollected int64 `json:"eventsCollected"`
	RequestsMade    int64 `json:"requestsMade"`
	// BudgetShareUsed is the fraction (0..1) of the rate-limit budget in use.
	BudgetShareUsed float64 `json:"budgetShareUsed"`
	// UpdatedAt is set by the store.
	UpdatedAt time.Time `json:"updatedAt"`
}

// Healths stores the latest health of each integration.
type Healths interface {
	// SetHealth replaces the integration's health record.
	SetHealth(ctx context.Context, h Health) error
	// Health returns one integration's health, or ErrNotFound.
	Health(ctx context.Context, integrationID int64) (Health, error)
	// ListHealth returns every health record by integration id.
	ListHealth(ctx context.Context) ([]Health, error)
}

// LagAt is how far collection trails real time at now, for a record written at UpdatedAt: the
// stored lag grown by the time since, and, when the integration is not collecting (in error,
// degraded, disabled), at least now minus the newest collected event's published time, since
// nothing newer is known to be collected.
func (h Health) LagAt(now time.Time) time.Duration {
	lag := h.Lag
	if !h.UpdatedAt.IsZero() && now.After(h.UpdatedAt) {
		lag += now.Sub(h.UpdatedAt)
	}
	if h.State != HealthCollecting && !h.LastEventAt.IsZero() {
		lag = max(lag, now.Sub(h.LastEventAt))
	}
	return max(lag, 0)
}
