package store

import (
	"context"
	"time"
)

// StateEntry is one key of a consumer's private state (a detection baseline, a watermark), written
// in the same transaction as the consumer's offset. A nil Value deletes the key.
type StateEntry struct {
	Key   string
	Value []byte
}

// ProcessedBatch is what the processor made of a run of journal entries: it becomes visible in one
// transaction with the processor's offset, or not at all.
// Its normalized records are not stored: OCSF is derived from the journal entry when a sink or
// the API asks for it (docs/storage.md, "What is stored").
type ProcessedBatch struct {
	Alerts []Alert
	State  []StateEntry
}

// ProcessedResult says what CommitProcessed stored.
type ProcessedResult struct {
	// Alerts counts the alerts that were new (replays insert nothing twice).
	Alerts int
}

// Processing is the storage the processor stage needs beyond the journal: its private state, and
// one atomic commit of a batch (alerts, state) with its offset.
type Processing interface {
	// CommitProcessed stores the batch's alerts (skipping those already stored, by id), applies its
	// state entries under consumer, and commits the consumer's journal offset to seq, all in one
	// transaction. The consumer must be registered on
	// the journal stream; a seq at or below its offset leaves the offset as it is (as CommitOffset).
	CommitProcessed(ctx context.Context, consumer string, seq int64, batch ProcessedBatch) (ProcessedResult, error)
	// ConsumerState returns every state entry stored under consumer.
	ConsumerState(ctx context.Context, consumer string) ([]StateEntry, error)
	// SeqBefore returns the highest journal seq at or below atOrBelow whose published time is
	// before t, or 0 when no retained entry is; the processor replays from there after a restart.
	// It scans backwards from atOrBelow, so its cost grows with the time between t and that entry.
	SeqBefore(ctx context.Context, t time.Time, atOrBelow int64) (int64, error)
}
