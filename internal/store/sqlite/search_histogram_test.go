package sqlite

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// TestEventHistogram counts a filtered search over time: the buckets add up to what paging the
// same search returns, an actor whose id and login are both terms is counted once, and the
// edges are [since, until).
func TestEventHistogram(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "idwatch.db"))
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]store.Event, 600)
	for i := range evs {
		uuid := fmt.Sprintf("ev-%05d", i)
		at := base.Add(time.Duration(i) * 10 * time.Second)
		raw, _ := json.Marshal(map[string]any{"uuid": uuid, "eventType": []string{"user.session.start", "user.authentication.sso"}[i%2], "published": at,
			"actor":   map[string]any{"id": fmt.Sprintf("00u%d", i%3), "alternateId": fmt.Sprintf("user%d@acme.example", i%3)},
			"outcome": map[string]any{"result": []string{"SUCCESS", "FAILURE"}[i%4/2]}})
		evs[i] = store.Event{UUID: uuid, Published: at, EventType: []string{"user.session.start", "user.authentication.sso"}[i%2], Raw: raw}
	}
	if _, err := s.AppendPage(t.Context(), 1, evs, nil); err != nil {
		t.Fatal(err)
	}
	count := func(q store.EventQuery) int64 {
		var n int64
		q.Limit = 1000
		for {
			p, err := s.SearchEvents(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			n += int64(len(p.Events))
			if p.Next == "" {
				return n
			}
			q.Cursor = p.Next
		}
	}
	since, until := base.Add(time.Minute), base.Add(61*time.Minute) // events 6..365
	for _, q := range []store.EventQuery{
		{},
		{Actor: "user1@acme.example"},
		{Actor: "00u1"},
		{EventTypes: []string{"user.session.start"}, Outcomes: []string{"FAILURE"}},
		{TypePrefixes: []string{"user."}, Actor: "user2@acme.example"},
		{Actor: "nobody@acme.example"},
	} {
		q.Since, q.Until = since, until
		h, err := s.EventHistogram(t.Context(), q, 12)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, c := range h.Counts {
			sum += c
		}
		if want := count(q); h.Total != want || sum != want {
			t.Errorf("%+v: histogram total %d, buckets %d, search finds %d", q, h.Total, sum, want)
		}
		if len(h.Counts) != 12 || !h.Start.Equal(since) || h.Width != 5*time.Minute {
			t.Errorf("%+v: %d buckets from %v of %v", q, len(h.Counts), h.Start, h.Width)
		}
	}
	all, err := s.EventHistogram(t.Context(), store.EventQuery{Since: since, Until: until}, 12)
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != 360 || all.Counts[0] != 30 || all.Counts[11] != 30 {
		t.Fatalf("every event between the edges: total %d, first %d, last %d", all.Total, all.Counts[0], all.Counts[11])
	}
	for _, bad := range []struct {
		q store.EventQuery
		n int
	}{{store.EventQuery{Since: since}, 10}, {store.EventQuery{Since: since, Until: until}, 0}, {store.EventQuery{Since: until, Until: since}, 10}} {
		if _, err := s.EventHistogram(t.Context(), bad.q, bad.n); err == nil {
			t.Errorf("%+v, %d buckets: no error", bad.q, bad.n)
		}
	}
}

// TestCountAlertsBySeverity counts with the list's filters.
func TestCountAlertsBySeverity(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "idwatch.db"))
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var alerts []store.Alert
	for i := range 30 {
		alerts = append(alerts, store.Alert{ID: fmt.Sprint("a", i), RuleID: fmt.Sprint("r", i%2), Severity: []string{"low", "high", "critical"}[i%3],
			Time: base.Add(time.Duration(i) * time.Minute), IntegrationID: 1, Body: []byte(`{}`)})
	}
	if _, err := s.AppendAlerts(t.Context(), alerts); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetAlertStatus(t.Context(), []string{"a0", "a1", "a2"}, store.AlertStatusChange{Status: store.AlertResolved, By: "t"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.CountAlertsBySeverity(t.Context(), store.AlertQuery{Statuses: []string{store.AlertNew}, Rules: []string{"r0"}, Since: base.Add(3 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	// r0 is the even alerts; from a3 on and new: a4 … a28, 13 of them.
	if fmt.Sprint(got) != "map[critical:4 high:5 low:4]" {
		t.Fatalf("counts %v", got)
	}
	if _, err := s.CountAlertsBySeverity(t.Context(), store.AlertQuery{Statuses: []string{"open"}}); err == nil {
		t.Fatal("an unknown status counted")
	}
}
