package console

import (
	"context"
	"errors"
	"time"
)

// Backend is everything the console reads and changes. The server implements it over the store,
// the collector and the processor; the console holds no state of its own beyond sessions. Every
// method takes the request's context first; changes take the Principal that makes them, for the
// audit trail. Errors meant for the user are *Error values (message, fix, field).
type Backend interface {
	// Authenticate resolves an API key to its principal, or returns ErrUnauthenticated.
	Authenticate(ctx context.Context, key string) (Principal, error)

	// Integrations lists every integration with its health.
	Integrations(ctx context.Context) ([]IntegrationRow, error)
	// Integration returns one integration with its 24-hour series and health history.
	Integration(ctx context.Context, id string) (IntegrationDetail, error)
	// Verify checks a new integration's prerequisites, calling emit once per check as it completes.
	Verify(ctx context.Context, in NewIntegration, emit func(VerifyCheck)) error
	// AddIntegration stores a verified integration, enabled, and starts collecting from it.
	AddIntegration(ctx context.Context, by Principal, in NewIntegration) (IntegrationRow, error)
	// SetIntegrationEnabled starts or stops collection from an integration.
	SetIntegrationEnabled(ctx context.Context, by Principal, id string, enabled bool) error
	// Rotate replaces an integration's credentials, keeping its id and cursor.
	Rotate(ctx context.Context, by Principal, id string, c Credentials) error
	// StartBackfill starts collecting an integration's past events between since and until.
	StartBackfill(ctx context.Context, by Principal, id string, since, until time.Time) error
	// BackfillProgress reports an integration's latest backfill; Backfill.State is "" when none ran.
	BackfillProgress(ctx context.Context, id string) (Backfill, error)

	// Alerts lists alerts matching q, newest first, with counts by severity over the whole match.
	Alerts(ctx context.Context, q AlertQuery) (AlertPage, error)
	// Alert returns one alert with its evidence and history.
	Alert(ctx context.Context, id string) (AlertDetail, error)
	// AlertAction acknowledges, resolves, suppresses or annotates an alert.
	AlertAction(ctx context.Context, by Principal, id string, a AlertAction) error

	// SearchEvents searches the journal.
	SearchEvents(ctx context.Context, q EventQuery) (EventResult, error)

	// Rules lists built-in and custom rules.
	Rules(ctx context.Context) ([]RuleRow, error)
	// UploadRule validates a custom Sigma rule, runs its tests and stores it when both pass.
	// The tests are the rule's test file (optional; without it the rule is stored untested).
	UploadRule(ctx context.Context, by Principal, filename string, body, tests []byte) (RuleUpload, error)
	// SetRuleEnabled enables or disables a rule.
	SetRuleEnabled(ctx context.Context, by Principal, id string, enabled bool) error

	// Sinks lists the configured sinks with their delivery state.
	Sinks(ctx context.Context) ([]SinkRow, error)
	// DeadLetters lists up to limit of a sink's dead letters, oldest first.
	DeadLetters(ctx context.Context, sink string, limit int) ([]DeadLetter, error)
	// ReplayDeadLetters queues a sink's dead letters for delivery again and returns how many.
	ReplayDeadLetters(ctx context.Context, by Principal, sink string) (int, error)

	// Incidents lists incidents matching q, highest risk first.
	Incidents(ctx context.Context, q IncidentQuery) ([]IncidentRow, error)
	// Incident returns one incident with its timeline and history.
	Incident(ctx context.Context, id string) (IncidentDetail, error)
	// UpdateIncident changes an incident's status or assignee, or adds a note.
	UpdateIncident(ctx context.Context, by Principal, id string, ch IncidentChange) error
	// SuppressPattern stops one of an incident's rules' alerts about an entity from joining
	// incidents.
	SuppressPattern(ctx context.Context, by Principal, incidentID string, s PatternSuppression) error

	// Responses lists response actions with status ("" for all), newest first.
	Responses(ctx context.Context, status string) ([]ResponseRow, error)
	// Response returns one action with its audit trail.
	Response(ctx context.Context, id string) (ResponseDetail, error)
	// RequestResponse dry-runs, proposes or runs a response action.
	RequestResponse(ctx context.Context, by Principal, req ResponseRequest) (ResponseOutcome, error)
	// DecideResponse approves (and so runs) or rejects a pending action.
	DecideResponse(ctx context.Context, by Principal, id string, approve, confirm bool, note string) error

	// Identities lists users of the identity inventory matching q.
	Identities(ctx context.Context, q IdentityQuery) (IdentityPage, error)
	// Posture lists the posture findings of every integration, most severe first.
	Posture(ctx context.Context) ([]PostureRow, error)

	// APIKeys lists API keys (never the keys themselves).
	APIKeys(ctx context.Context) ([]APIKeyRow, error)
	// CreateAPIKey creates a key and returns it; the key is shown once and never again.
	CreateAPIKey(ctx context.Context, by Principal, name string, role Role) (string, APIKeyRow, error)
	// RevokeAPIKey revokes a key by name.
	RevokeAPIKey(ctx context.Context, by Principal, name string) error
}

// Error is an error meant for the user: what went wrong, what to do, and the form field at fault.
type Error struct {
	Message string
	Fix     string
	Field   string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Fix == "" {
		return e.Message
	}
	return e.Message + ": " + e.Fix
}

var (
	// ErrUnauthenticated is returned by Authenticate for an unknown or revoked key.
	ErrUnauthenticated = errors.New("unknown or revoked API key")
	// ErrNotFound is returned when the named object does not exist.
	ErrNotFound = errors.New("not found")
)

// Role is an API key's role.
type Role string

// The roles, from least to most privileged.
const (
	RoleViewer  Role = "viewer"
	RoleAnalyst Role = "analyst"
	RoleAdmin   Role = "admin"
)

// rank orders roles so a check can ask for "at least".
func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleAnalyst:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// Principal is who is signed in: the API key's name and role.
type Principal struct {
	Name string
	Role Role
}

// Health states of an integration, as the collector reports them.
const (
	StateCollecting  = "collecting"
	StateVerifying   = "verifying"
	StateBackingOff  = "backing_off"
	StateFailing     = "failing"
	StateDisabled    = "disabled"
	StateBackfilling = "backfilling"
)

// IntegrationRow is one line of the integrations table.
type IntegrationRow struct {
	ID           string
	Name         string
	OrgURL       string
	AuthType     string // "api_token" or "service_app"
	Enabled      bool
	State        string
	LastEvent    time.Time // zero: none yet
	Lag          time.Duration
	EventsPerMin []float64 // the last hour, one value a minute, oldest first
	BudgetUsed   float64   // share of the org's API budget used, 0..1
	BudgetShare  float64   // configured share, 0..1
	LastError    string
	LastFix      string
}

// Point is one value of a time series.
type Point struct {
	T time.Time
	V float64
}

// HealthChange is one entry of an integration's health history.
type HealthChange struct {
	At     time.Time
	State  string
	Reason string
}

// IntegrationDetail is one integration with its 24-hour charts.
type IntegrationDetail struct {
	IntegrationRow
	ClientID      string // service apps only
	KeyID         string
	Scopes        []string
	EventsPerHour []Point // 24 h
	Requests      []Point // 24 h, requests per hour
	Throttled     []Point // 24 h, 429 responses per hour
	History       []HealthChange
	Backfill      Backfill
}

// Backfill is the progress of an integration's backfill job.
type Backfill struct {
	State   string // "", "running", "done", "failed", "cancelled"
	Since   time.Time
	Until   time.Time
	Reached time.Time // events up to here are collected
	Events  int64
	Error   string
}

// Fraction is how much of the backfill's window is collected, 0..1.
func (b Backfill) Fraction() float64 {
	span := b.Until.Sub(b.Since)
	if span <= 0 || b.Reached.IsZero() {
		if b.State == "done" {
			return 1
		}
		return 0
	}
	f := float64(b.Reached.Sub(b.Since)) / float64(span)
	return min(max(f, 0), 1)
}

// Credentials are an integration's secrets; exactly one of APIToken or PrivateKey is set.
type Credentials struct {
	APIToken   string
	ClientID   string
	KeyID      string
	PrivateKey string // PEM or JWK JSON, as uploaded
	Scopes     []string
}

// NewIntegration is the add-integration form.
type NewIntegration struct {
	Name   string
	OrgURL string
	Credentials
}

// VerifyCheck is one line of the verification checklist.
type VerifyCheck struct {
	Name   string
	Status string // "pass", "fail", "warn", "skip"
	Detail string
	Fix    string // where to fix it in the Okta admin console
	// Blocking is set when collecting cannot start while this check fails.
	Blocking bool
}

// AlertQuery filters the alert list.
type AlertQuery struct {
	Severity    string
	Status      string
	Rule        string
	Integration string
	Identity    string
	Since       time.Time
	Until       time.Time
	Limit       int
}

// AlertRow is one line of the alert list.
type AlertRow struct {
	ID          string
	Time        time.Time
	Severity    string
	Title       string
	RuleID      string
	Integration string
	Identity    string
	Status      string
	Technique   string // ATT&CK technique id, e.g. T1110.003
}

// AlertPage is a page of alerts with counts by severity over everything the query matches.
type AlertPage struct {
	Alerts     []AlertRow
	BySeverity map[string]int
	Total      int
}

// Technique is an ATT&CK technique.
type Technique struct {
	ID     string
	Name   string
	Tactic string
	URL    string
}

// Evidence is one event behind an alert, raw and normalized.
type Evidence struct {
	UUID      string
	Published time.Time
	EventType string
	Actor     string
	IP        string
	Outcome   string
	Raw       string // the Okta event, indented JSON
	OCSF      string // the OCSF record, indented JSON
}

// Note is a note or status change on an alert.
type Note struct {
	At   time.Time
	By   string
	Text string
}

// IdentityCard describes the identity an alert is about, from the inventory.
type IdentityCard struct {
	Login       string
	DisplayName string
	Status      string
	AdminRoles  []string
	Factors     []string
	ADLink      string
}

// AlertDetail is one alert with everything behind it.
type AlertDetail struct {
	AlertRow
	Description   string
	Techniques    []Technique
	Evidence      []Evidence
	Notes         []Note
	SuppressedTil time.Time
	Card          *IdentityCard // the identity from the inventory; nil until it knows it
}

// Alert actions.
const (
	ActionAck      = "ack"
	ActionResolve  = "resolve"
	ActionSuppress = "suppress"
	ActionNote     = "note"
)

// AlertAction is a status change or note.
type AlertAction struct {
	Kind  string // one of the Action constants
	Note  string
	Until time.Time // suppress only
}

// EventQuery is an event search; the zero value means the last 24 hours, newest first.
type EventQuery struct {
	Since       time.Time
	Until       time.Time
	Integration string
	Type        string // exact, or a prefix ending in '*'
	Actor       string
	Target      string
	IP          string
	Outcome     string
	Text        string
	Cursor      string
	Limit       int
	OldestFirst bool
}

// EventRow is one search result.
type EventRow struct {
	UUID        string
	Published   time.Time
	Integration string
	Type        string
	Actor       string
	Target      string
	IP          string
	Outcome     string
	Flagged     string // why the event could not be fully read, if so
	Raw         string
	OCSF        string
}

// EventResult is a page of events and a histogram of everything the query matched.
type EventResult struct {
	Events     []EventRow
	NextCursor string
	Histogram  []Point
	Total      int
	// TextIgnored is set when Total and Histogram count the other filters only (free text is
	// matched page by page, not counted).
	TextIgnored bool
}

// RuleRow is one rule.
type RuleRow struct {
	// Source is "built-in", "folder" (process.rules_dir) or "custom" (uploaded).
	Source  string
	ID      string
	Title   string
	Level   string
	Custom  bool
	Enabled bool
	Alerts  int
	Tactics []string
}

// RuleProblem is a validation error in an uploaded rule.
type RuleProblem struct {
	Line    int
	Column  int
	Message string
}

// RuleTest is the result of one of a rule's own tests.
type RuleTest struct {
	Name   string
	Passed bool
	Detail string
}

// RuleUpload is the outcome of an upload: stored only when there are no problems and all tests pass.
type RuleUpload struct {
	// Untested is set when the rule was stored without tests.
	Untested bool
	ID       string
	Stored   bool
	Problems []RuleProblem
	Tests    []RuleTest
}

// SinkRow is one sink.
type SinkRow struct {
	Name   string
	Type   string
	Status string    // "delivering", "retrying", "failing", "paused"
	Since  time.Time // when it entered Status
	Lag    int64     // records not yet delivered
	LagAge time.Duration
	// Position is the journal seq up to which the sink has delivered.
	Position    int64
	DeadLetters int64
	LastError   string
}

// DeadLetter is an event a sink gave up on.
type DeadLetter struct {
	Seq    int64
	UUID   string
	At     time.Time
	Reason string
}

// APIKeyRow is one API key, without the key.
type APIKeyRow struct {
	Name     string
	Role     Role
	Created  time.Time
	LastUsed time.Time
	Revoked  bool
}
