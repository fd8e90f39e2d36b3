package store

import (
	"context"
	"fmt"
	"time"
)

// Stream names a sequence a consumer reads: the journal, the alerts table or the incident stream. Offsets and lag are
// counted in that stream's seq numbers.
type Stream string

// The streams consumers can follow.
const (
	StreamJournal Stream = "journal"
	StreamAlerts  Stream = "alerts"
	// StreamIncidents carries every change of every incident (IncidentRecord).
	StreamIncidents Stream = "incidents"
)

// Validate checks that s is a known stream.
func (s Stream) Validate() error {
	switch s {
	case StreamJournal, StreamAlerts, StreamIncidents, StreamIdentity:
		return nil
	}
	return fmt.Errorf("%w: unknown stream %q (want %q, %q, %q or %q)", ErrInvalid, string(s), StreamJournal, StreamAlerts, StreamIncidents, StreamIdentity)
}

// Consumer is a registered reader of a stream (the processor, a sink, the inventory updater).
type Consumer struct {
	// Name identifies the consumer, for example "sink/splunk".
	Name string
	// Stream is what it reads.
	Stream Stream
	// Offset is the seq of the last record it has durably handled; it reads from Offset+1.
	Offset int64
	// Lag is the stream's last seq minus Offset.
	Lag int64
	// RegisteredAt and UpdatedAt are set by the store.
	RegisteredAt, UpdatedAt time.Time
	// Status is what the consumer last reported with SetConsumerStatus ("" when it never did),
	// StatusError the error it reported with it, and StatusAt when it entered that status (a new
	// error in the same status keeps StatusAt).
	Status, StatusError string
	StatusAt            time.Time
}

// Offsets tracks, per consumer, how far it has durably handled its stream. Journal retention never
// removes what a registered journal consumer still needs (up to the retention cap).
type Offsets interface {
	// RegisterConsumer registers name on stream starting at offset start (0: from the beginning;
	// LastSeq: only what comes next). Registering an existing consumer keeps its offset and returns
	// it; registering it on another stream is an ErrConflict.
	RegisterConsumer(ctx context.Context, name string, stream Stream, start int64) (int64, error)
	// UnregisterConsumer removes the consumer, so retention no longer waits for it.
	UnregisterConsumer(ctx context.Context, name string) error
	// Offset returns the consumer's offset, or ErrNotFound when it is not registered.
	Offset(ctx context.Context, name string) (int64, error)
	// CommitOffset advances the consumer to seq after its work is durable. A seq at or below the
	// current offset is ignored (offsets never go backwards); a seq beyond the stream's last seq is
	// ErrInvalid.
	CommitOffset(ctx context.Context, name string, seq int64) error
	// ResetOffset sets the offset to seq, backwards or forwards, for an operator-requested replay.
	ResetOffset(ctx context.Context, name string, seq int64) error
	// Consumers lists every registered consumer with its lag, by name.
	Consumers(ctx context.Context) ([]Consumer, error)
	// SetConsumerStatus records what a consumer reports about itself (for a sink: delivering,
	// retrying, …) and the error behind it, for readers in other processes; it leaves the offset
	// alone. An unregistered name is ErrNotFound.
	SetConsumerStatus(ctx context.Context, name, status, statusError string) error
}
