package store

import (
	"context"
	"time"

	"github.com/idwatch/idwatch/internal/secret"
)

// EventHook is an integration's Okta event hook as idwatch knows it: where Okta delivers, how
// each delivery authenticates, and what the receiver has seen.
type EventHook struct {
	IntegrationID int64 `json:"integrationId"`
	// OktaHookID is the hook's id in the org (empty when it was set up in the admin console and
	// not yet linked).
	OktaHookID string `json:"oktaHookId,omitempty"`
	// URL is the public HTTPS address Okta delivers to.
	URL string `json:"url"`
	// HeaderName is the request header carrying Secret on every delivery.
	HeaderName string `json:"headerName"`
	// Secret authenticates deliveries; sealed at rest, never logged or returned.
	Secret secret.Value `json:"-"`
	// EventTypes are the event types the hook subscribes to.
	EventTypes []string `json:"eventTypes"`
	// Status is Okta's status and verification as last seen ("ACTIVE VERIFIED"), or
	// "MANUAL" when the hook must be set up in the admin console.
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// LastDelivery is when the receiver last stored a delivery; zero if never.
	LastDelivery time.Time `json:"lastDelivery"`
	// Deliveries and EventsReceived count accepted deliveries and the events they carried.
	Deliveries     int64 `json:"deliveries"`
	EventsReceived int64 `json:"eventsReceived"`
	// PerMinute is the receiver's recent delivery rate.
	PerMinute float64 `json:"deliveriesPerMinute"`
}

// HookDeliveries is what the receiver adds to a hook's statistics.
type HookDeliveries struct {
	At         time.Time
	Deliveries int64
	Events     int64
	PerMinute  float64
}

// EventHooks stores each integration's event hook, its secret sealed like other secrets.
type EventHooks interface {
	// PutEventHook creates or replaces the integration's hook (statistics are kept on replace).
	// ErrNotFound if the integration does not exist.
	PutEventHook(ctx context.Context, h EventHook) (EventHook, error)
	// EventHook returns the integration's hook with its secret opened; ErrNotFound if none,
	// ErrCredentialsUnreadable if the secret cannot be opened.
	EventHook(ctx context.Context, integrationID int64) (EventHook, error)
	// ListEventHooks returns every hook by integration id, secrets left empty.
	ListEventHooks(ctx context.Context) ([]EventHook, error)
	// DeleteEventHook forgets the integration's hook; ErrNotFound if none.
	DeleteEventHook(ctx context.Context, integrationID int64) error
	// RecordHookDeliveries adds delivery statistics to the integration's hook.
	RecordHookDeliveries(ctx context.Context, integrationID int64, d HookDeliveries) error
	// CountPolledSince counts the integration's journal entries of eventTypes stored at or after
	// since that arrived by polling: events a hook subscribed to them did not deliver first.
	CountPolledSince(ctx context.Context, integrationID int64, eventTypes []string, since time.Time) (int64, error)
}
