package store

import (
	"context"
	"time"
)

// MaxSearchLimit bounds one page of a search (events or alerts).
const MaxSearchLimit = 1000

// DefaultSearchLimit is the page size when a query names none.
const DefaultSearchLimit = 50

// EventQuery narrows and orders an event search. Zero fields do not narrow; the filters that are
// set must all match. String matches are case-insensitive, as Okta compares logins.
type EventQuery struct {
	// Since and Until bound the event time (published): Since <= published < Until. The search
	// orders and bounds by the millisecond, Okta's precision.
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// Integrations keeps the events of these integrations.
	Integrations []int64 `json:"integrations,omitempty"`
	// EventTypes keeps events of these exact types; TypePrefixes those whose type starts with one
	// of these ("user.session."). An event matching either list is kept.
	EventTypes   []string `json:"eventTypes,omitempty"`
	TypePrefixes []string `json:"typePrefixes,omitempty"`
	// Actor matches actor.id or actor.alternateId.
	Actor string `json:"actor,omitempty"`
	// Target matches the id or alternateId of any target.
	Target string `json:"target,omitempty"`
	// IP matches client.ipAddress.
	IP string `json:"ip,omitempty"`
	// Outcomes keeps events whose outcome.result is one of these (SUCCESS, FAILURE, ALLOW, …).
	Outcomes []string `json:"outcomes,omitempty"`
	// Text keeps events whose raw JSON contains it (case-insensitive). It is checked on the
	// events the other filters select, at most MaxScan of them per call (see EventPage.Partial).
	Text string `json:"text,omitempty"`
	// Oldest orders oldest first; the default is newest first.
	Oldest bool `json:"oldest,omitempty"`
	// Limit is the page size: 1..MaxSearchLimit, 0 for DefaultSearchLimit.
	Limit int `json:"limit,omitempty"`
	// Cursor continues from a previous page's EventPage.Next; it only fits the same query.
	Cursor string `json:"cursor,omitempty"`
	// MaxScan bounds the events a free-text search examines per call; 0 means DefaultMaxScan.
	MaxScan int `json:"-"`
	// Scope, when set, binds cursors to it instead of to EventTypes and TypePrefixes: a layer
	// that resolves its own filters (schemas) to types sets it to its query, so that a type first
	// seen between two pages does not invalidate the cursor.
	Scope string `json:"scope,omitempty"`
}

// DefaultMaxScan is how many candidate events one free-text search call examines at most.
const DefaultMaxScan = 200_000

// EventPage is one page of an event search.
type EventPage struct {
	// Events are the matching journal entries in the query's order.
	Events []Entry `json:"events"`
	// Next continues the search (pass it as EventQuery.Cursor); "" when nothing follows.
	Next string `json:"next,omitempty"`
	// Scanned counts the candidates a free-text search examined.
	Scanned int `json:"scanned,omitempty"`
	// Partial is set when a free-text search examined MaxScan candidates before the page filled:
	// Next continues where it stopped, and the page may be short or empty.
	Partial bool `json:"partial,omitempty"`
}

// EventSearch finds journal events through the event index, which the journal fills in the same
// transaction as each append.
type EventSearch interface {
	// SearchEvents returns one page of the events matching q. A cursor that is malformed, or from
	// another query, fails with ErrInvalid.
	SearchEvents(ctx context.Context, q EventQuery) (EventPage, error)
	// IndexedEventTypes returns every event type the index has seen, sorted (the search layer maps
	// schemas to types with it).
	IndexedEventTypes(ctx context.Context) ([]string, error)
	// EventHistogram counts the events matching q (Since and Until required; Text, Cursor and
	// Limit ignored) in buckets equal spans of time.
	EventHistogram(ctx context.Context, q EventQuery, buckets int) (EventHistogram, error)
}

// MaxHistogramBuckets bounds an event histogram.
const MaxHistogramBuckets = 500

// EventHistogram counts events over time: Counts[i] events were published in
// [Start+i*Width, Start+(i+1)*Width).
type EventHistogram struct {
	Start  time.Time     `json:"start"`
	Width  time.Duration `json:"-"`
	Counts []int64       `json:"counts"`
	Total  int64         `json:"total"`
	// TextIgnored is set when the query had free text, which the counts do not apply.
	TextIgnored bool `json:"textIgnored,omitempty"`
}
