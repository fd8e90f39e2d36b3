package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/search"
	"github.com/idwatch/idwatch/internal/store"
)

// eventRoutes are event search over the journal's index, one event by uuid, and a histogram of
// a search over time.
func (s *Server) eventRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/events", Role: store.RoleViewer, OperationID: "searchEvents", Handler: s.searchEvents},
		{Method: "GET", Pattern: "/api/v1/events/histogram", Role: store.RoleViewer, OperationID: "eventHistogram", Handler: s.eventHistogram},
		{Method: "GET", Pattern: "/api/v1/events/{uuid}", Role: store.RoleViewer, OperationID: "getEvent", Handler: s.getEvent},
	}
}

// EventView is one journal event as the API returns it: raw (Okta's LogEvent), as OCSF
// records, or both, with where and how it was collected.
type EventView struct {
	UUID          string            `json:"uuid"`
	Seq           int64             `json:"seq"`
	Integration   string            `json:"integration"`
	IntegrationID int64             `json:"integrationId"`
	Published     time.Time         `json:"published"`
	EventType     string            `json:"eventType"`
	Source        string            `json:"source,omitempty"`
	Raw           json.RawMessage   `json:"raw,omitempty"`
	OCSF          []json.RawMessage `json:"ocsf,omitempty"`
	// Flagged says which parts of the event could not be read into Okta's model (a field of
	// the wrong type, say); Error why the event has no OCSF records at all. Either way the raw
	// event is kept and returned.
	Flagged string `json:"flagged,omitempty"`
	Error   string `json:"error,omitempty"`
}

// EventPage is the body of GET /api/v1/events.
type EventPage struct {
	Events []EventView `json:"events"`
	// Next continues the search with the same filters (cursor=…); absent on the last page.
	Next string `json:"next,omitempty"`
	// Partial and Scanned: a free-text search examined Scanned events without filling the page;
	// Next continues where it stopped.
	Partial bool `json:"partial,omitempty"`
	Scanned int  `json:"scanned,omitempty"`
}

// EventHistogramView is the body of GET /api/v1/events/histogram.
type EventHistogramView struct {
	Start        time.Time `json:"start"`
	BucketSecond float64   `json:"bucketSeconds"`
	Counts       []int64   `json:"counts"`
	Total        int64     `json:"total"`
	TextIgnored  bool      `json:"textIgnored,omitempty"`
}

// eventFilters are the query parameters of an event search.
var eventFilters = []string{"since", "until", "integration", "type", "actor", "target", "ip", "outcome", "schema", "q"}

// eventQuery reads the filters shared by the search and the histogram.
func (s *Server) eventQuery(ctx context.Context, p *params) (search.EventQuery, error) {
	q := search.EventQuery{Types: p.list("type"), Schemas: p.list("schema")}
	q.Since, q.Until = p.time("since"), p.time("until")
	q.Actor, q.Target, q.IP, q.Text = p.str("actor"), p.str("target"), p.str("ip"), p.str("q")
	q.Outcomes = p.list("outcome")
	if p.err != nil {
		return q, p.err
	}
	ids, err := s.integrationIDs(ctx, p.list("integration"))
	q.Integrations = ids
	return q, err
}

// integrationIDs resolves integration names (or ids) to ids.
func (s *Server) integrationIDs(ctx context.Context, names []string) ([]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	all, err := s.st.ListIntegrations(ctx)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, n := range names {
		found := false
		for _, in := range all {
			if in.Name == n || fmt.Sprint(in.ID) == n {
				ids, found = append(ids, in.ID), true
				break
			}
		}
		if !found {
			return nil, Fail(http.StatusBadRequest, CodeInvalidField, fmt.Sprintf("no integration named %q", n), "GET /api/v1/integrations lists them", "integration")
		}
	}
	return ids, nil
}

// integrationNames maps integration ids to names.
func (s *Server) integrationNames(ctx context.Context) (map[int64]string, error) {
	all, err := s.st.ListIntegrations(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[int64]string, len(all))
	for _, in := range all {
		names[in.ID] = in.Name
	}
	return names, nil
}

// invalidQuery turns the query layer's refusals (a bad cursor, a bad type pattern, until before
// since) into a 400 naming the parameter when it can.
func invalidQuery(err error) error {
	if !errors.Is(err, store.ErrInvalid) {
		return err
	}
	msg := err.Error()
	field, fix := "", "check the filters"
	switch {
	case strings.Contains(msg, "cursor"):
		field, fix = "cursor", "a cursor only continues the search that returned it, with the same filters: start again without it"
	case strings.Contains(msg, "event type"):
		field, fix = "type", "use exact event types or a family ending in .* (user.session.*)"
	case strings.Contains(msg, "schema"):
		field, fix = "schema", "use auth, cloudaudit or generic"
	case strings.Contains(msg, "until"):
		field, fix = "until", "give an until after since"
	case strings.Contains(msg, "free text"):
		field, fix = "q", "search for at most 256 bytes of text"
	case strings.Contains(msg, "status"):
		field, fix = "status", "use one of "+strings.Join(store.AlertStatuses, ", ")
	}
	return Fail(http.StatusBadRequest, CodeInvalidField, msg, fix, field)
}

func (s *Server) searchEvents(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(r, append([]string{"cursor", "limit", "order", "format"}, eventFilters...)...)
	if err != nil {
		return err
	}
	q, err := s.eventQuery(r.Context(), p)
	if err != nil {
		return err
	}
	q.Cursor = p.str("cursor")
	q.Limit = p.intIn("limit", store.DefaultSearchLimit, 1, store.MaxSearchLimit)
	q.Oldest = p.oneOf("order", "newest", "newest", "oldest") == "oldest"
	format := p.oneOf("format", "raw", "raw", "ocsf", "both")
	if p.err != nil {
		return p.err
	}
	page, err := s.search.SearchEvents(r.Context(), q)
	if err != nil {
		return invalidQuery(err)
	}
	names, err := s.integrationNames(r.Context())
	if err != nil {
		return err
	}
	out := EventPage{Events: make([]EventView, 0, len(page.Events)), Next: page.Next, Partial: page.Partial, Scanned: page.Scanned}
	n := normalize.New()
	for _, e := range page.Events {
		out.Events = append(out.Events, eventView(e, names, format, n))
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// eventView renders a journal entry in format raw, ocsf or both.
func eventView(e store.Entry, names map[int64]string, format string, n *normalize.Normalizer) EventView {
	v := EventView{UUID: e.UUID, Seq: e.Seq, Integration: names[e.IntegrationID], IntegrationID: e.IntegrationID,
		Published: e.Published.UTC(), EventType: e.EventType, Source: e.Source}
	if format != "ocsf" {
		v.Raw = search.RawJSON(e.Raw)
	}
	v.Flagged = search.Flagged(e.Raw)
	recs, err := search.OCSF(e, n)
	if err != nil {
		v.Error = err.Error()
	} else if format != "raw" {
		v.OCSF = recs
	}
	return v
}

func (s *Server) eventHistogram(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(r, append([]string{"buckets"}, eventFilters...)...)
	if err != nil {
		return err
	}
	q, err := s.eventQuery(r.Context(), p)
	if err != nil {
		return err
	}
	buckets := p.intIn("buckets", 48, 1, store.MaxHistogramBuckets)
	if p.err != nil {
		return p.err
	}
	if q.Since.IsZero() {
		return Fail(http.StatusBadRequest, CodeInvalidField, "a histogram needs since", "give since (and until, which defaults to now) as RFC 3339 times", "since")
	}
	if q.Until.IsZero() {
		q.Until = s.now()
	}
	h, err := s.search.EventHistogram(r.Context(), q, buckets)
	if err != nil {
		return invalidQuery(err)
	}
	WriteJSON(w, http.StatusOK, EventHistogramView{Start: h.Start, BucketSecond: h.Width.Seconds(), Counts: h.Counts, Total: h.Total, TextIgnored: h.TextIgnored})
	return nil
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(r, "integration", "format")
	if err != nil {
		return err
	}
	format := p.oneOf("format", "both", "raw", "ocsf", "both")
	ids, err := s.integrationIDs(r.Context(), p.list("integration"))
	if err != nil {
		return err
	}
	if p.err != nil {
		return p.err
	}
	names, err := s.integrationNames(r.Context())
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		for id := range names {
			ids = append(ids, id)
		}
	}
	uuid := r.PathValue("uuid")
	for _, id := range ids {
		es, err := s.st.JournalByUUID(r.Context(), id, []string{uuid})
		if err != nil {
			return err
		}
		if len(es) > 0 {
			WriteJSON(w, http.StatusOK, eventView(es[0], names, format, normalize.New()))
			return nil
		}
	}
	return Fail(http.StatusNotFound, CodeNotFound, fmt.Sprintf("no event %q in the journal", uuid),
		"GET /api/v1/events finds events; retention may have trimmed an old one", "uuid")
}
