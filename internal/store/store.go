// Package store is idwatch's durable state behind one interface: the journal of collected events,
// per-integration polling cursors, per-consumer offsets, integrations with encrypted secrets, their
// health, alerts, sink dead letters, and the processor's normalized records and state.
// Implementations live in subpackages (sqlite); every one must pass the conformance suite in
// storetest.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Store is the whole of idwatch's durable state. Methods are safe for concurrent use; every method
// honours ctx cancellation; every write is atomic.
type Store interface {
	Journal
	Cursors
	Offsets
	Integrations
	Healths
	Alerts
	DeadLetters
	Processing
	Incidents
	Responses
	APIKeys
	Stats
	Inventory
	EventHooks
	EventSearch
	AlertTriage
	IdentityStream
	Rulebook
	// Close releases the database; the Store must not be used afterwards.
	Close() error
}

// ErrNotFound is returned (wrapped) when a looked-up record does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned (wrapped) when a write would break a uniqueness rule, such as a second
// integration with the same name.
var ErrConflict = errors.New("already exists")

// ErrInvalid is returned (wrapped) when a caller passes values the store refuses.
var ErrInvalid = errors.New("invalid argument")

// ErrUnavailable is returned (wrapped) when the storage underneath failed (disk full, I/O error,
// permissions, another process's lock) while the database itself is intact: retry once the cause
// is fixed, never restore or delete the database for it.
var ErrUnavailable = errors.New("storage unavailable")

// ErrCorrupt is returned (wrapped) when the database file itself is damaged or is not a database;
// only then is restoring it from backup or moving it aside the fix.
var ErrCorrupt = errors.New("database is corrupt")

// Event is one collected Okta System Log event as the collector hands it to the journal.
type Event struct {
	// UUID is Okta's event uuid; the journal keeps one event per (integration, uuid).
	UUID string
	// Published is Okta's event time.
	Published time.Time
	// EventType is Okta's eventType.
	EventType string
	// Raw is the event's JSON exactly as received.
	Raw json.RawMessage
	// Source is how the event arrived: SourcePoll (also when empty) or SourcePush.
	Source string
}

// How an event reached the journal: read from the System Log, or pushed by an Okta event hook.
const (
	SourcePoll = "poll"
	SourcePush = "push"
)

// Cursor is where live polling of one integration resumes.
type Cursor struct {
	// Next is the URL of the next page to request (opaque; Okta's Link rel="next").
	Next string
	// LastPublished is the latest published time seen, the fallback when Next is rejected.
	LastPublished time.Time
	// UpdatedAt is when the cursor was stored (set by the store).
	UpdatedAt time.Time
}

// AppendResult says what one AppendPage did.
type AppendResult struct {
	// Inserted counts events new to the journal.
	Inserted int
	// Duplicates counts events skipped because (integration, uuid) was already stored, or repeated
	// within the page.
	Duplicates int
	// LastSeq is the journal's last seq after the append (unchanged when nothing was inserted).
	LastSeq int64
}

// Entry is one journal row.
type Entry struct {
	Seq           int64
	IntegrationID int64
	UUID          string
	Published     time.Time
	EventType     string
	Raw           json.RawMessage
	StoredAt      time.Time
	// Source is SourcePoll or SourcePush: how the stored copy arrived (the first to arrive wins).
	Source string
}

// ReadFilter narrows ReadJournal and CountJournal; empty slices mean "all".
type ReadFilter struct {
	Integrations []int64
	EventTypes   []string
}

// TimeKey is a position in the journal's event-time order: entries are ordered by published
// time, then uuid, then seq, so the order does not depend on when each entry arrived. The zero
// TimeKey is before every entry.
type TimeKey struct {
	Published time.Time
	UUID      string
	Seq       int64
}

// Key returns the entry's position in the event-time order.
func (e *Entry) Key() TimeKey { return TimeKey{Published: e.Published, UUID: e.UUID, Seq: e.Seq} }

// Less reports whether k comes before o in the event-time order.
func (k TimeKey) Less(o TimeKey) bool {
	if c := k.Published.Compare(o.Published); c != 0 {
		return c < 0
	}
	if k.UUID != o.UUID {
		return k.UUID < o.UUID
	}
	return k.Seq < o.Seq
}

// TimeFilter narrows ReadJournalByTime; zero fields do not narrow.
type TimeFilter struct {
	ReadFilter
	// Until excludes entries published at or after it.
	Until time.Time
	// MaxSeq excludes entries with a higher seq (those a consumer has not reached yet).
	MaxSeq int64
}

// TrimResult reports what TrimJournal removed.
type TrimResult struct {
	// Removed is the number of entries deleted.
	Removed int64
	// FirstSeq is the lowest seq still in the journal after trimming (0 if it is empty).
	FirstSeq int64
	// Forced is true when the retention cap removed entries some consumer had not yet read.
	Forced bool
	// Overrun lists the consumers that lost unread entries to the cap.
	Overrun []string
}

// JournalBounds describes the journal's extent.
type JournalBounds struct {
	// FirstSeq is the lowest stored seq (0 when empty); a consumer whose offset+1 is below it
	// missed trimmed entries.
	FirstSeq int64
	// LastSeq is the highest seq ever assigned; it survives trimming and never decreases.
	LastSeq int64
	// Count is the number of stored entries.
	Count int64
}

// Journal is the ordered, deduplicated, durable log of collected events.
type Journal interface {
	// AppendPage stores the new events of one page, skipping (and counting) those already present for
	// integrationID, and, when cursor is not nil, stores it as the integration's live cursor, all in
	// one transaction: after a crash either both are visible or neither. A nil cursor (backfill, event
	// hooks) merges events without touching the live cursor. Events get seq numbers in page order.
	AppendPage(ctx context.Context, integrationID int64, events []Event, cursor *Cursor) (AppendResult, error)
	// ReadJournal returns up to limit entries with seq > afterSeq matching filter, in seq order.
	// Each entry's Raw is a buffer of its own that the caller may keep (event.DecodeOwned).
	ReadJournal(ctx context.Context, afterSeq int64, limit int, filter ReadFilter) ([]Entry, error)
	// ReadJournalByTime returns up to limit entries after the position `after` in event-time order
	// (published, uuid, seq) that match filter. Entries without a published time are not in this
	// order; ReadJournal returns them.
	ReadJournalByTime(ctx context.Context, after TimeKey, limit int, filter TimeFilter) ([]Entry, error)
	// JournalByUUID returns the entries of an integration with the given uuids (those still
	// retained), in seq order.
	JournalByUUID(ctx context.Context, integrationID int64, uuids []string) ([]Entry, error)
	// LastSeq returns the highest seq ever assigned (0 for a new journal).
	LastSeq(ctx context.Context) (int64, error)
	// CountJournal counts the stored entries matching filter.
	CountJournal(ctx context.Context, filter ReadFilter) (int64, error)
	// Bounds returns the journal's first and last seq and entry count.
	Bounds(ctx context.Context) (JournalBounds, error)
	// TrimJournal deletes entries with seq < beforeSeq that every registered journal consumer has
	// committed; then, if the store has a retention cap, deletes the oldest entries beyond it even if
	// a consumer still needs them, and says so in the result. Deduplication only knows retained
	// entries: an event appended again after it was trimmed is stored as new.
	TrimJournal(ctx context.Context, beforeSeq int64) (TrimResult, error)
	// SeqStoredSince returns the lowest seq of a retained entry stored at or after t, or
	// LastSeq+1 when every retained entry is older, so that TrimJournal(ctx, SeqStoredSince(t))
	// keeps what arrived since t. Its cost grows with the entries stored before t.
	SeqStoredSince(ctx context.Context, t time.Time) (int64, error)
}

// Cursors holds each integration's live polling cursor.
type Cursors interface {
	// Cursor returns the integration's cursor, or ErrNotFound when polling never stored one.
	Cursor(ctx context.Context, integrationID int64) (Cursor, error)
	// SetCursor replaces the cursor outside a page append, for example to restart polling from a
	// published time after Okta rejected the stored next link.
	SetCursor(ctx context.Context, integrationID int64, c Cursor) error
	// DeleteCursor forgets the cursor; polling then starts from its lookback again.
	DeleteCursor(ctx context.Context, integrationID int64) error
}

// FaultPoint names a place inside a store operation where a test can make the operation fail.
type FaultPoint string

// The fault points every implementation must honour.
const (
	// FaultAfterJournalInsert fires inside AppendPage after the events are written and before the
	// cursor is, so tests can prove the two commit together or not at all.
	FaultAfterJournalInsert FaultPoint = "journal: after insert, before cursor"
	// FaultBeforeProcessedOffset fires inside CommitProcessed after the records, alerts and state
	// are written and before the offset is, so tests can prove the batch commits as a whole.
	FaultBeforeProcessedOffset FaultPoint = "processed: after records and alerts, before offset"
)

// Faults returns a non-nil error to fail the operation at point. Production stores have none.
type Faults func(point FaultPoint) error
