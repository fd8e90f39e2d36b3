// Package search is the query layer the CLI and the API share: event search with schemas
// resolved to event types, events rendered raw or as OCSF, and alert detail with its evidence
// and ATT&CK. It sits above the store and normalize, and does no I/O of its own beyond the
// store.
package search

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/store"
)

// Store is what the query layer reads.
type Store interface {
	store.EventSearch
	store.AlertTriage
	store.Journal
}

// Service answers event and alert queries.
type Service struct {
	st     Store
	router *normalize.Router
}

// New returns a Service over st.
func New(st Store) *Service {
	return &Service{st: st, router: normalize.NewRouter()}
}

// EventQuery is a store.EventQuery with the filters the store cannot resolve itself.
type EventQuery struct {
	store.EventQuery
	// Types are event types; one ending in ".*" (or ".") is a prefix: "user.session.*".
	Types []string `json:"types,omitempty"`
	// Schemas keeps events that normalize to one of these schemas (auth, cloudaudit, generic).
	Schemas []string `json:"schemas,omitempty"`
}

// ParseTypes splits event type arguments into exact types and prefixes, refusing patterns the
// index cannot answer.
func ParseTypes(types []string) (exact, prefixes []string, err error) {
	for _, t := range types {
		t = strings.TrimSpace(t)
		switch {
		case t == "":
			continue
		case strings.HasSuffix(t, ".*"):
			prefixes = append(prefixes, strings.TrimSuffix(t, "*"))
		case strings.HasSuffix(t, "."):
			prefixes = append(prefixes, t)
		case strings.ContainsAny(t, "*?"):
			return nil, nil, fmt.Errorf("%w: event type %q: only a trailing .* is supported (user.session.*)", store.ErrInvalid, t)
		default:
			exact = append(exact, t)
		}
	}
	return exact, prefixes, nil
}

// SearchEvents runs q: Types and Schemas are resolved to the exact event types the index has
// seen, then the store searches.
func (s *Service) SearchEvents(ctx context.Context, q EventQuery) (store.EventPage, error) {
	sq, err := s.resolve(ctx, q)
	if err != nil {
		return store.EventPage{}, err
	}
	return s.st.SearchEvents(ctx, sq)
}

// EventHistogram counts the events matching q (free text aside) in buckets between q.Since and
// q.Until.
func (s *Service) EventHistogram(ctx context.Context, q EventQuery, buckets int) (store.EventHistogram, error) {
	sq, err := s.resolve(ctx, q)
	if err != nil {
		return store.EventHistogram{}, err
	}
	return s.st.EventHistogram(ctx, sq, buckets)
}

// resolve folds Types and Schemas into the store query's exact types and prefixes.
func (s *Service) resolve(ctx context.Context, q EventQuery) (store.EventQuery, error) {
	sq := q.EventQuery
	exact, prefixes, err := ParseTypes(q.Types)
	if err != nil {
		return sq, err
	}
	sq.EventTypes = append(slices.Clone(sq.EventTypes), exact...)
	sq.TypePrefixes = append(slices.Clone(sq.TypePrefixes), prefixes...)
	if len(q.Schemas) == 0 {
		return sq, nil
	}
	for _, sc := range q.Schemas {
		if !slices.Contains(normalize.Schemas, normalize.Schema(sc)) {
			return sq, fmt.Errorf("%w: schema %q is not one of auth, cloudaudit, generic", store.ErrInvalid, sc)
		}
	}
	known, err := s.st.IndexedEventTypes(ctx)
	if err != nil {
		return sq, err
	}
	typed := len(sq.EventTypes) > 0 || len(sq.TypePrefixes) > 0
	var types []string
	for _, t := range known {
		if typed && !slices.Contains(sq.EventTypes, t) && !slices.ContainsFunc(sq.TypePrefixes, func(p string) bool { return strings.HasPrefix(t, p) }) {
			continue
		}
		if slices.ContainsFunc(s.router.Route(t).Schemas, func(sc normalize.Schema) bool { return slices.Contains(q.Schemas, string(sc)) }) {
			types = append(types, t)
		}
	}
	// The schemas select the types; the type filters have been folded in. The cursor is bound to
	// the query as the caller wrote it, so a type first seen between pages does not break it.
	scope, err := json.Marshal(struct{ Types, Schemas []string }{q.Types, q.Schemas})
	if err != nil {
		return sq, err
	}
	sq.Scope = string(scope) + "|" + strings.Join(q.EventTypes, ",") + "|" + strings.Join(q.TypePrefixes, ",")
	sq.EventTypes, sq.TypePrefixes = types, nil
	if len(types) == 0 {
		sq.EventTypes = []string{"\x00none"} // matches nothing, with a valid cursor binding
	}
	return sq, nil
}

// OCSF returns the OCSF records of a journal entry, as idwatch's sinks write them; an entry that
// does not decode as an Okta event has none, and the error says why.
func OCSF(e store.Entry, n *normalize.Normalizer) ([]json.RawMessage, error) {
	ev, err := event.DecodeOwned(e.Raw)
	if err != nil {
		return nil, fmt.Errorf("journal entry seq %d (event %q) does not decode: %w", e.Seq, e.UUID, err)
	}
	meta := normalize.Meta{TenantUID: strconv.FormatInt(e.IntegrationID, 10), LoggedTime: e.StoredAt, Raw: e.Raw}
	var out []json.RawMessage
	for _, r := range n.Normalize(ev, meta) {
		b, err := r.AppendJSON(nil, normalize.EncodeOptions{})
		if err != nil {
			return nil, fmt.Errorf("encode event %s: %w", ev.UUID, err)
		}
		out = append(out, b)
	}
	return out, nil
}
