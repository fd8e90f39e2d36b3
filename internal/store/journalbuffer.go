package store

import "context"

// JournalBufferReader is an optional capability of a Journal, for a reader that is done with
// each read before it makes the next (the processor): ReadJournalInto reads like ReadJournal but
// decompresses the entries' raw events into buf's capacity when it has the room, and returns the
// buffer it used, to be passed to the next read. The entries' Raw (and any string decoded from
// it without a copy) is valid only until that next read; a reader that keeps anything of an
// entry must copy it.
type JournalBufferReader interface {
	ReadJournalInto(ctx context.Context, afterSeq int64, limit int, filter ReadFilter, buf []byte) ([]Entry, []byte, error)
}
