// Package sink delivers the collected stream (raw Okta events, OCSF records, alerts) to external
// consumers. Each configured sink reads the journal and the alert stream from its own offsets and
// commits them only after the destination acknowledged a batch, so a crash or an outage never loses
// a record, and a slow destination never holds up collection or the other sinks.
package sink

import (
	"context"
	"encoding/json"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// Kind is what a record is.
type Kind string

// The record kinds a sink can carry.
const (
	// KindEvent is a raw Okta System Log event, exactly as collected.
	KindEvent Kind = "event"
	// KindOCSF is an event normalized to an OCSF record.
	KindOCSF Kind = "ocsf"
	// KindAlert is a Detection Finding from the alert stream.
	KindAlert Kind = "alert"
	// KindIncident is an OCSF Incident Finding, one per change of an incident.
	KindIncident Kind = "incident"
	// KindIdentity is an identity inventory record: an OCSF User Inventory Info (a user after a
	// full sync or a change) or an IAM Analysis Finding (a posture finding created, updated or
	// closed).
	KindIdentity Kind = "identity"
)

// Record is one item delivered to a destination.
type Record struct {
	// ID is stable across redeliveries: the Okta event uuid, or the alert's deterministic id.
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// Schema is the OCSF routing schema (auth, cloudaudit, generic) of a KindOCSF record.
	Schema string `json:"schema,omitempty"`
	// Seq is the record's position in its stream.
	Seq int64 `json:"seq"`
	// Time is the event's published time or the alert's time.
	Time          time.Time `json:"time"`
	IntegrationID int64     `json:"integrationId"`
	EventType     string    `json:"eventType,omitempty"`
	// Body is the record itself as JSON.
	Body json.RawMessage `json:"body"`
}

// DedupKey is the id destinations deduplicate on: the record id for raw events and alerts, and
// "ocsf:<schema>:<uuid>" for OCSF records, so a raw event and its OCSF records (two for events
// routed to two schemas) sharing one dedup window (a NATS stream) do not shadow each other.
func (r Record) DedupKey() string {
	if r.Kind == KindOCSF {
		return "ocsf:" + r.Schema + ":" + r.ID
	}
	return r.ID
}

// Batch is what a sink writes at once: records read from one stream, covering the seqs
// (FirstSeq, LastSeq]. Records may be fewer than the seqs covered, since filters drop some.
type Batch struct {
	Stream store.Stream
	// AfterSeq is the offset the batch was read after; LastSeq the last seq it covers.
	AfterSeq, LastSeq int64
	Records           []Record
}

// Sink is one destination, in the spirit of Benthos outputs.
//
// Connect is called before the first Write and again after a Write returns ErrNotConnected; it is
// retried with backoff. Write returns nil only once the destination has acknowledged every record
// of the batch (durably written, indexed, or acked by the broker); any error means the batch may be
// written again, whole, so destinations must tolerate redelivery of the same ids. Close releases
// connections; it is called once. A Sink is used by one goroutine at a time.
type Sink interface {
	Connect(ctx context.Context) error
	Write(ctx context.Context, b Batch) error
	Close(ctx context.Context) error
}

// Resumer is implemented by sinks that must reconcile their output with the committed offsets
// after a restart (the file sink cuts off a batch written but never committed). The runner calls
// Resume after each Connect with the offset of every stream it reads.
type Resumer interface {
	Resume(ctx context.Context, committed map[store.Stream]int64) error
}
