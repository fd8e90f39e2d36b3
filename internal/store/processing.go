package store

import (
	"context"
	"encoding/json"
	"time"
)

// Record is one normalized record (an OCSF event of schema auth, cloudaudit or generic) that the
// processor derived from a journal entry. One entry yields one record per schema it routes to.
type Record struct {
	// Seq is the journal seq of the source entry; (Seq, Schema) identifies the record.
	Seq           int64  `json:"seq"`
	Schema        string `json:"schema"`
	IntegrationID int64  `json:"integrationId"`
	// ClassUID is the OCSF class of Body.
	ClassUID int `json:"classUid"`
	// UUID is the Okta event uuid of the source entry.
	UUID string `json:"uuid"`
	// Time is the event time (Okta's published).
	Time time.Time `json:"time"`
	// Body is the OCSF record as JSON.
	Body json.RawMessage `json:"body"`
}

// RecordFilter narrows ReadRecords; empty slices mean "all".
type RecordFilter struct {
	Schemas      []string
	Integrations []int64
}

// StateEntry is one key of a consumer's private state (a detection baseline, a watermark), written
// in the same transaction as the consumer's offset. A nil Value deletes the key.
type StateEntry struct {
	Key   string
	Value []byte
}

// ProcessedBatch is what the processor made of a run of journal entries: it becomes visible in one
// transaction with the processor's offset, or not at all.
type ProcessedBatch struct {
	Records []Record
	Alerts  []Alert
	State   []StateEntry
}

// ProcessedResult says what CommitProcessed stored.
type ProcessedResult struct {
	// Records and Alerts count the rows that were new (replays insert nothing twice).
	Records, Alerts int
}

// Processing is the storage the processor stage needs beyond the journal: its normalized records,
// its private state, and one atomic commit of a batch with its offset.
type Processing interface {
	// CommitProcessed stores the batch's records and alerts (skipping those already stored: records
	// by (seq, schema), alerts by id), applies its state entries under consumer, and commits the
	// consumer's journal offset to seq, all in one transaction. The consumer must be registered on
	// the journal stream; a seq at or below its offset leaves the offset as it is (as CommitOffset).
	CommitProcessed(ctx context.Context, consumer string, seq int64, batch ProcessedBatch) (ProcessedResult, error)
	// ReadRecords returns the records of up to limit journal entries with seq > afterSeq that
	// match filter, ordered by seq and schema. The records of one entry are never split across
	// calls, so reading on from the last returned seq misses nothing.
	ReadRecords(ctx context.Context, afterSeq int64, limit int, filter RecordFilter) ([]Record, error)
	// ConsumerState returns every state entry stored under consumer.
	ConsumerState(ctx context.Context, consumer string) ([]StateEntry, error)
	// SeqBefore returns the highest journal seq at or below atOrBelow whose published time is
	// before t, or 0 when no retained entry is; the processor replays from there after a restart.
	// It scans backwards from atOrBelow, so its cost grows with the time between t and that entry.
	SeqBefore(ctx context.Context, t time.Time, atOrBelow int64) (int64, error)
}
