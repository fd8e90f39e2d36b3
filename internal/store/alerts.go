package store

import (
	"context"
	"encoding/json"
	"time"
)

// Alert is one detection finding as stored.
type Alert struct {
	// Seq orders the alert stream (set by the store).
	Seq int64 `json:"seq"`
	// ID is deterministic (rule, group, window), so raising the same alert again is a no-op.
	ID            string    `json:"id"`
	RuleID        string    `json:"ruleId"`
	Severity      string    `json:"severity"`
	Time          time.Time `json:"time"`
	IntegrationID int64     `json:"integrationId"`
	GroupKey      string    `json:"groupKey,omitempty"`
	// Body is the alert record (an OCSF Detection Finding) as JSON.
	Body json.RawMessage `json:"body"`
	// StoredAt is set by the store.
	StoredAt time.Time `json:"storedAt"`
}

// Alerts is the append-only, idempotent alert stream.
type Alerts interface {
	// AppendAlerts stores alerts whose id is new, in order, and returns how many it inserted;
	// alerts with a known id are skipped.
	AppendAlerts(ctx context.Context, alerts []Alert) (int, error)
	// ReadAlerts returns up to limit alerts with seq > afterSeq in seq order.
	ReadAlerts(ctx context.Context, afterSeq int64, limit int) ([]Alert, error)
	// ListAlerts returns up to limit alerts whose time is at or after since, newest first.
	ListAlerts(ctx context.Context, since time.Time, limit int) ([]Alert, error)
	// LastAlertSeq returns the highest alert seq assigned (0 when none).
	LastAlertSeq(ctx context.Context) (int64, error)
	// TrimAlerts deletes the alerts stored before storedBefore that every alert-stream consumer
	// has committed; alert seqs are never reused and LastAlertSeq is unchanged.
	TrimAlerts(ctx context.Context, storedBefore time.Time) (AlertTrimResult, error)
}

// AlertTrimResult reports what TrimAlerts did.
type AlertTrimResult struct {
	// Removed is the number of alerts deleted.
	Removed int64
	// Waiting counts alerts old enough to go that are kept because an alert consumer (a sink)
	// has not committed them yet.
	Waiting int64
}

// DeadLetter is a record a sink gave up delivering.
type DeadLetter struct {
	// ID is set by the store.
	ID int64 `json:"id"`
	// Sink is the sink's configured name; RecordID the record's stable id (event uuid or alert id).
	Sink     string          `json:"sink"`
	RecordID string          `json:"recordId"`
	Payload  json.RawMessage `json:"payload"`
	// Error is the last delivery error; Attempts counts failed deliveries.
	Error    string `json:"error"`
	Attempts int    `json:"attempts"`
	// FirstFailure and LastFailure bracket the failures.
	FirstFailure time.Time `json:"firstFailure"`
	LastFailure  time.Time `json:"lastFailure"`
}

// DeadLetters keeps undeliverable records per sink until they are replayed or deleted.
type DeadLetters interface {
	// AddDeadLetter records a failed record; adding the same (sink, record id) again updates its
	// payload and error, adds the attempts and releases any replay lease.
	AddDeadLetter(ctx context.Context, d DeadLetter) error
	// ListDeadLetters returns up to limit letters for sink ("" for all sinks), oldest first.
	ListDeadLetters(ctx context.Context, sink string, limit int) ([]DeadLetter, error)
	// TakeDeadLetters leases up to limit letters of sink for replay: they are hidden from other
	// Take calls for lease, and come back if the replayer neither deletes nor re-adds them.
	TakeDeadLetters(ctx context.Context, sink string, limit int, lease time.Duration) ([]DeadLetter, error)
	// DeleteDeadLetters removes letters by id (after a successful replay, or by the operator).
	DeleteDeadLetters(ctx context.Context, ids ...int64) error
	// TrimDeadLetters deletes the letters whose last failure is before failedBefore and that no
	// replayer holds a lease on, and returns how many it deleted.
	TrimDeadLetters(ctx context.Context, failedBefore time.Time) (int64, error)
}
