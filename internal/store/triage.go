package store

import (
	"context"
	"time"
)

// Alert statuses, the alert triage workflow's states.
const (
	AlertNew          = "new"
	AlertAcknowledged = "acknowledged"
	AlertResolved     = "resolved"
	AlertSuppressed   = "suppressed"
)

// AlertStatuses lists the valid alert statuses in workflow order.
var AlertStatuses = []string{AlertNew, AlertAcknowledged, AlertResolved, AlertSuppressed}

// TriagedAlert is a stored alert with its triage state.
type TriagedAlert struct {
	Alert
	// Status is the alert's current status. A suppression whose Until has passed reads as the
	// status the alert had before it was suppressed.
	Status string `json:"status"`
	// Reason is why the alert was suppressed ("" otherwise).
	Reason string `json:"reason,omitempty"`
	// SuppressedUntil is when a suppression ends (zero: it does not end, or not suppressed).
	SuppressedUntil time.Time `json:"suppressedUntil,omitzero"`
	// StatusBy and StatusAt name who last changed the status, and when (empty for a new alert).
	StatusBy string    `json:"statusBy,omitempty"`
	StatusAt time.Time `json:"statusAt,omitzero"`
}

// AlertChange is one entry of an alert's append-only history: a status change (From != To) or
// a note (From == To).
type AlertChange struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Note   string    `json:"note,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Until  time.Time `json:"until,omitzero"`
}

// AlertStatusChange is an analyst's (or an incident's) change to an alert.
type AlertStatusChange struct {
	// Status is the new status; "" adds only the note.
	Status string
	// By names who makes the change (required).
	By string
	// Note is free text kept in the history.
	Note string
	// Reason is required for suppressed; Until optionally ends the suppression.
	Reason string
	Until  time.Time
}

// AlertQuery narrows the alert list; zero fields do not narrow.
type AlertQuery struct {
	// Since and Until bound the alert time: Since <= time < Until.
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// Severities, Rules (rule ids), Integrations and Statuses keep alerts with one of the values.
	Severities   []string `json:"severities,omitempty"`
	Rules        []string `json:"rules,omitempty"`
	Integrations []int64  `json:"integrations,omitempty"`
	Statuses     []string `json:"statuses,omitempty"`
	// Identity keeps alerts about this user (login or Okta id, case-insensitive): one of the
	// finding's unmapped.entities, which name the actors and targets of its evidence.
	Identity string `json:"identity,omitempty"`
	// Limit is the page size: 1..MaxSearchLimit, 0 for DefaultSearchLimit.
	Limit int `json:"limit,omitempty"`
	// Cursor continues from a previous page's AlertPage.Next.
	Cursor string `json:"cursor,omitempty"`
}

// AlertPage is one page of the alert list, newest first.
type AlertPage struct {
	Alerts []TriagedAlert `json:"alerts"`
	// Next continues the list (AlertQuery.Cursor); "" when nothing follows.
	Next string `json:"next,omitempty"`
}

// AlertTriage is the alert triage workflow: status, notes and a history of every change.
type AlertTriage interface {
	// SearchAlerts returns one page of the alerts matching q, newest first (time, then seq).
	SearchAlerts(ctx context.Context, q AlertQuery) (AlertPage, error)
	// CountAlertsBySeverity counts the alerts matching q (its Cursor and Limit ignored) by
	// severity.
	CountAlertsBySeverity(ctx context.Context, q AlertQuery) (map[string]int, error)
	// GetAlert returns an alert with its triage state and history, oldest change first
	// (ErrNotFound when unknown).
	GetAlert(ctx context.Context, id string) (TriagedAlert, []AlertChange, error)
	// SetAlertStatus applies c to the alerts ids in one transaction, recording each change in
	// their history, and returns them after it. An unknown id fails the whole call with
	// ErrNotFound; setting the status an alert already has records only the note, if any.
	SetAlertStatus(ctx context.Context, ids []string, c AlertStatusChange) ([]TriagedAlert, error)
}
