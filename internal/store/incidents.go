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
}
