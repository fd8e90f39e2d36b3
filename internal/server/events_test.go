package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// journalFixture stores n sign-in events for integration "acme" (alternating users and
// outcomes, one a minute from base) plus one event that does not decode as a LogEvent, and
// returns the integration's id.
func journalFixture(t *testing.T, e *env, base time.Time, n int) int64 {
	t.Helper()
	e.addTokenIntegration("acme")
	in, err := e.st.IntegrationByName(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	var evs []store.Event
	for i := range n {
		at := base.Add(time.Duration(i) * time.Minute)
		typ := []string{"user.session.start", "user.authentication.auth_via_mfa"}[i%2]
		raw, _ := json.Marshal(map[string]any{"uuid": fmt.Sprintf("ev-%03d", i), "eventType": typ, "published": at.Format(time.RFC3339Nano),
			"displayMessage": "User login to Okta", "severity": "INFO",
			"actor":   map[string]any{"id": fmt.Sprintf("00u%d", i%3), "type": "User", "alternateId": fmt.Sprintf("user%d@acme.example", i%3)},
			"client":  map[string]any{"ipAddress": fmt.Sprintf("192.0.2.%d", i%4)},
			"outcome": map[string]any{"result": []string{"SUCCESS", "FAILURE"}[i%2]}})
		evs = append(evs, store.Event{UUID: fmt.Sprintf("ev-%03d", i), Published: at, EventType: typ, Raw: raw})
	}
	// A damaged event: kept and returned, flagged, never dropped.
	bad := base.Add(time.Duration(n) * time.Minute)
	evs = append(evs, store.Event{UUID: "ev-bad", Published: bad, EventType: "user.session.start",
		Raw: []byte(`{"uuid":"ev-bad","eventType":"user.session.start","published":"` + bad.Format(time.RFC3339) + `","actor":"not an object"}`)})
	if _, err := e.st.AppendPage(t.Context(), in.ID, evs, nil); err != nil {
		t.Fatal(err)
	}
	return in.ID
}

func TestEventSearchRoutes(t *testing.T) {
	e := newEnv(t)
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	journalFixture(t, e, base, 30)
	viewer := e.keys[store.RoleViewer]
	search := func(q url.Values) EventPage {
		t.Helper()
		code, body := e.do(call{method: "GET", path: "/api/v1/events?" + q.Encode(), key: viewer})
		var p EventPage
		if err := json.Unmarshal(body, &p); code != http.StatusOK || err != nil {
			t.Fatalf("search %v: %d %s", q, code, body)
		}
		return p
	}
	// Paging through an actor's events with a small page: each once, newest first.
	var uuids []string
	q := url.Values{"actor": {"USER1@acme.example"}, "limit": {"3"}, "integration": {"acme"}}
	for {
		p := search(q)
		for _, ev := range p.Events {
			uuids = append(uuids, ev.UUID)
			if ev.Integration != "acme" || ev.Raw == nil || ev.OCSF != nil {
				t.Fatalf("raw format: %+v", ev)
			}
		}
		if p.Next == "" {
			break
		}
		q.Set("cursor", p.Next)
	}
	want := []string{"ev-028", "ev-025", "ev-022", "ev-019", "ev-016", "ev-013", "ev-010", "ev-007", "ev-004", "ev-001"}
	if !slices.Equal(uuids, want) {
		t.Fatalf("actor's events %v, want %v", uuids, want)
	}
	// Oldest first, a type family, an outcome, a time range, OCSF.
	p := search(url.Values{"type": {"user.authentication.*"}, "outcome": {"FAILURE"}, "order": {"oldest"}, "format": {"ocsf"},
		"since": {base.Add(10 * time.Minute).Format(time.RFC3339)}, "until": {base.Add(20 * time.Minute).Format(time.RFC3339)}})
	if len(p.Events) != 5 || p.Events[0].UUID != "ev-011" || p.Events[4].UUID != "ev-019" {
		t.Fatalf("filtered search: %+v", p.Events)
	}
	for _, ev := range p.Events {
		if ev.Raw != nil || len(ev.OCSF) == 0 {
			t.Fatalf("ocsf format: %+v", ev)
		}
	}
	// Free text on top of an indexed filter; the damaged event is found, flagged, raw kept.
	p = search(url.Values{"q": {"not an object"}, "format": {"both"}})
	if len(p.Events) != 1 || p.Events[0].UUID != "ev-bad" || !strings.Contains(p.Events[0].Flagged, "actor") || p.Events[0].Raw == nil {
		t.Fatalf("the damaged event: %+v", p.Events)
	}
	// The histogram adds up to the search.
	code, body := e.do(call{method: "GET", path: "/api/v1/events/histogram?actor=user1@acme.example&buckets=6&since=" +
		base.Format(time.RFC3339) + "&until=" + base.Add(time.Hour).Format(time.RFC3339), key: viewer})
	var h EventHistogramView
	if err := json.Unmarshal(body, &h); code != http.StatusOK || err != nil || h.Total != 10 || len(h.Counts) != 6 || h.BucketSecond != 600 {
		t.Fatalf("histogram: %d %s", code, body)
	}
	// One event by uuid.
	code, body = e.do(call{method: "GET", path: "/api/v1/events/ev-007", key: viewer})
	var one EventView
	if err := json.Unmarshal(body, &one); code != http.StatusOK || err != nil || one.UUID != "ev-007" || one.Raw == nil || len(one.OCSF) == 0 {
		t.Fatalf("one event: %d %s", code, body)
	}
	for _, c := range []struct {
		path, field string
		want        int
	}{
		{"/api/v1/events?actr=x", "actr", 400},
		{"/api/v1/events?since=yesterday", "since", 400},
		{"/api/v1/events?cursor=bm9wZQ", "cursor", 400},
		{"/api/v1/events?limit=0", "limit", 400},
		{"/api/v1/events?limit=1001", "limit", 400},
		{"/api/v1/events?order=sideways", "order", 400},
		{"/api/v1/events?type=user.*ssion", "type", 400},
		{"/api/v1/events?schema=iam", "schema", 400},
		{"/api/v1/events?integration=nope", "integration", 400},
		{"/api/v1/events?since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z", "until", 400},
		{"/api/v1/events/histogram?buckets=5", "since", 400},
		{"/api/v1/events/nope", "uuid", 404},
	} {
		code, body := e.do(call{method: "GET", path: c.path, key: viewer, invalid: true})
		if code != c.want {
			t.Errorf("%s: %d %s, want %d", c.path, code, body, c.want)
			continue
		}
		if er := e.errorOf(body); er.Field != c.field || er.Fix == "" {
			t.Errorf("%s: error %+v, want field %q and a fix", c.path, er, c.field)
		}
	}
	// A cursor from another query does not continue this one.
	p = search(url.Values{"actor": {"user1@acme.example"}, "limit": {"2"}})
	code, body = e.do(call{method: "GET", path: "/api/v1/events?actor=user2@acme.example&cursor=" + url.QueryEscape(p.Next), key: viewer, invalid: true})
	if code != http.StatusBadRequest || e.errorOf(body).Field != "cursor" {
		t.Fatalf("another query's cursor: %d %s", code, body)
	}
}
