package webui

import (
	"context"

	"github.com/idwatch/idwatch/internal/console"
)

// AlertsEvents serves the console's alert and event pages; the default runs the API's alert and
// event routes (alerts.go).
type AlertsEvents interface {
	// Alerts lists alerts matching q, newest first, with counts by severity over the whole match.
	Alerts(ctx context.Context, q console.AlertQuery) (console.AlertPage, error)
	// Alert returns one alert with its evidence and history.
	Alert(ctx context.Context, id string) (console.AlertDetail, error)
	// AlertAction acknowledges, resolves, suppresses or annotates an alert.
	AlertAction(ctx context.Context, by console.Principal, id string, a console.AlertAction) error
	// SearchEvents searches the journal.
	SearchEvents(ctx context.Context, q console.EventQuery) (console.EventResult, error)
}

// Alerts implements console.Backend.
func (b *Backend) Alerts(ctx context.Context, q console.AlertQuery) (console.AlertPage, error) {
	return b.o.AlertsEvents.Alerts(ctx, q)
}

// Alert implements console.Backend.
func (b *Backend) Alert(ctx context.Context, id string) (console.AlertDetail, error) {
	return b.o.AlertsEvents.Alert(ctx, id)
}

// AlertAction implements console.Backend.
func (b *Backend) AlertAction(ctx context.Context, by console.Principal, id string, a console.AlertAction) error {
	if _, err := b.act(ctx, by); err != nil {
		return err
	}
	return b.o.AlertsEvents.AlertAction(ctx, by, id, a)
}

// SearchEvents implements console.Backend.
func (b *Backend) SearchEvents(ctx context.Context, q console.EventQuery) (console.EventResult, error) {
	return b.o.AlertsEvents.SearchEvents(ctx, q)
}
