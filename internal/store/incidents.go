package store

import (
	"context"
	"encoding/json"
	"time"
)

// Incident statuses, the triage workflow's states.
const (
	IncidentNew           = "new"
	IncidentInProgress    = "in_progress"
	IncidentResolved      = "resolved"
	IncidentFalsePositive = "false_positive"
)

// IncidentStatuses lists the valid statuses in workflow order.
var IncidentStatuses = []string{IncidentNew, IncidentInProgress, IncidentResolved, IncidentFalsePositive}

// Incident is a group of alerts about one entity with its triage state.
type Incident struct {
	ID       string `json:"id"`
	Entity   string `json:"entity"`
	Status   string `json:"status"`
	Assignee string `json:"assignee"`
	Risk     int    `json:"risk"`
	Severity string `json:"severity"`
	// FirstAlert and LastAlert bracket the incident's alerts, in event time.
	FirstAlert time.Time `json:"firstAlert"`
	LastAlert  time.Time `json:"lastAlert"`
	// Alerts are the alert ids in time order.
	Alerts []string `json:"alerts"`
	// Detail is the grouping's view (entities, rules, risk contributions) as JSON.
	Detail json.RawMessage `json:"detail"`
	// History lists every change (notes included), oldest first; set by the store.
	History []IncidentChange `json:"history"`
	// CreatedAt, UpdatedAt and ClosedAt (resolved or false positive; zero while open) are set by
	// the store.
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	ClosedAt  time.Time `json:"closedAt,omitzero"`
}

// Kinds of incident history entries.
const (
	ChangeCreated  = "created"
	ChangeAlerts   = "alerts"
	ChangeMerged   = "merged"
	ChangeStatus   = "status"
	ChangeAssignee = "assignee"
	ChangeNote     = "note"
)

// IncidentChange is one entry of an incident's history.
type IncidentChange struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Kind string    `json:"kind"`
	Text string    `json:"text"`
}

// IncidentUpdate is an analyst's (or the processor's) change to an incident's workflow; empty
// fields are left as they are.
type IncidentUpdate struct {
	// By names who made the change (required).
	By       string
	Status   string
	Assignee *string
	Note     string
}

// Incidents keeps the incidents the processor groups alerts into and their triage workflow.
type Incidents interface {
	// SaveIncidents inserts incidents whose id is new (with status new) and, for known ones,
	// replaces the grouping fields (entity, risk, severity, alert times, alerts, detail) keeping
	// the workflow (status, assignee, history); every change is recorded in the history as by.
	// The ids in merged[id] are incidents folded into id: their history moves to id and they
	// are deleted.
	SaveIncidents(ctx context.Context, by string, incidents []Incident, merged map[string][]string) error
	// GetIncident returns one incident with its history (ErrNotFound when unknown).
	GetIncident(ctx context.Context, id string) (Incident, error)
	// ListIncidents returns up to limit incidents (status "" for all), highest risk first, then
	// the latest alert first; History is not filled.
	ListIncidents(ctx context.Context, status string, limit int) ([]Incident, error)
	// UpdateIncident applies u, records it in the history and returns the incident after it.
	UpdateIncident(ctx context.Context, id string, u IncidentUpdate) (Incident, error)
	// ReadIncidentStream returns up to limit incident stream records with seq > afterSeq in seq
	// order. Every SaveIncidents and UpdateIncident that changed an incident appended one record
	// per changed incident in the same transaction.
	ReadIncidentStream(ctx context.Context, afterSeq int64, limit int) ([]IncidentRecord, error)
	// LastIncidentSeq returns the highest incident stream seq assigned (0 when none).
	LastIncidentSeq(ctx context.Context) (int64, error)
	// AddSuppression stores an alert-pattern suppression; its ID and CreatedAt are set by the
	// store and returned.
	AddSuppression(ctx context.Context, s Suppression) (Suppression, error)
	// ListSuppressions returns every suppression, expired ones included, oldest first.
	ListSuppressions(ctx context.Context) ([]Suppression, error)
	// RemoveSuppression deletes one suppression (ErrNotFound when unknown).
	RemoveSuppression(ctx context.Context, id int64) error
	// TrimIncidents deletes incidents closed before closedBefore (with their history and
	// suppressions) and the incident stream records every incident-stream consumer has committed
	// and that were written before closedBefore. It returns how many incidents it deleted.
	TrimIncidents(ctx context.Context, closedBefore time.Time) (int64, error)
}

// Incident stream activities: what a record reports happened to its incident.
const (
	IncidentCreated = "create"
	IncidentUpdated = "update"
	IncidentClosed  = "close"
)

// IncidentRecord is one change of one incident on the incident stream.
type IncidentRecord struct {
	Seq        int64
	IncidentID string
	// Activity is IncidentCreated, IncidentUpdated or IncidentClosed (resolved, false positive,
	// or merged into another incident).
	Activity string
	At       time.Time
	// Snapshot is the incident after the change (an Incident without its history, plus
	// "mergedInto" and "lastChange") as JSON.
	Snapshot json.RawMessage
}

// Suppression stops alerts of one rule about one entity from joining incidents from its
// creation until it expires: an analyst's answer to a known-benign pattern inside an incident.
// The alerts are still stored and delivered.
type Suppression struct {
	ID int64 `json:"id"`
	// IncidentID is the incident it was made from (for the record).
	IncidentID string `json:"incidentId"`
	RuleID     string `json:"ruleId"`
	// Entity is "kind:value" (for example "user:alice@example.com"); alerts naming it are
	// suppressed.
	Entity string `json:"entity"`
	// Scope is the integration id the entity belongs to.
	Scope     string    `json:"scope"`
	Reason    string    `json:"reason"`
	By        string    `json:"by"`
	CreatedAt time.Time `json:"createdAt"`
	// ExpiresAt is zero for a suppression without an end.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// Covers reports whether the suppression applies to an alert of ruleID stored at storedAt.
func (s Suppression) Covers(ruleID string, storedAt time.Time) bool {
	if s.RuleID != ruleID || storedAt.Before(s.CreatedAt) {
		return false
	}
	return s.ExpiresAt.IsZero() || storedAt.Before(s.ExpiresAt)
}
