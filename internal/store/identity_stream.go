package store

import (
	"context"
	"encoding/json"
	"time"
)

// StreamIdentity carries the identity inventory's OCSF records (IdentityRecord): User Inventory
// Info snapshots and changes, and posture findings as IAM Analysis Findings.
const StreamIdentity Stream = "identity"

// Kinds of identity record.
const (
	// IdentityUser is an OCSF User Inventory Info (5003) record: a user after a full sync
	// (activity Collect) or after an incremental update changed it (activity Log).
	IdentityUser = "user"
	// IdentityPosture is an OCSF IAM Analysis Finding (2008): a posture finding created,
	// updated (its accounts changed) or closed (resolved).
	IdentityPosture = "posture"
)

// IdentityRecord is one record of the identity stream: an OCSF record built when the inventory
// changed, as of then.
type IdentityRecord struct {
	Seq           int64
	IntegrationID int64
	Kind          string // IdentityUser or IdentityPosture
	// UID is the user id or the posture finding id the record is about.
	UID string
	At  time.Time
	// Body is the OCSF record.
	Body json.RawMessage
}

// IdentityStream stores the identity stream.
type IdentityStream interface {
	// AppendIdentityRecords appends recs in order in one transaction, assigning their seqs.
	AppendIdentityRecords(ctx context.Context, recs []IdentityRecord) error
	// ReadIdentityStream returns up to limit records with seq > afterSeq in seq order.
	ReadIdentityStream(ctx context.Context, afterSeq int64, limit int) ([]IdentityRecord, error)
	// LastIdentitySeq returns the highest identity stream seq assigned (0 when none).
	LastIdentitySeq(ctx context.Context) (int64, error)
	// TrimIdentityStream removes records older than before that every consumer of the stream
	// has read (all of them when none is registered), and returns how many went.
	TrimIdentityStream(ctx context.Context, before time.Time) (int64, error)
}
