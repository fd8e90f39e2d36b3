package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store"
)

// addHistory appends n events spread evenly over [from, to), all visible now.
func (s *sim) addHistory(t testing.TB, n int, from, to time.Time) {
	t.Helper()
	step := to.Sub(from) / time.Duration(n)
	for i := range n {
		s.mu.Lock()
		s.n++
		id := s.n
		s.mu.Unlock()
		raw, _ := json.Marshal(map[string]any{"uuid": fmt.Sprintf("%08x-0000-4000-9000-%012d", id>>16, id),
			"published": from.Add(time.Duration(i) * step).Format(time.RFC3339Nano), "eventType": "user.session.start",
			"version": "0", "severity": "INFO", "outcome": map[string]any{"result": "SUCCESS"}})
		if _, err := s.srv.AppendRaw(raw, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBackfillMergesWithoutMovingCursor backfills three days in one-day windows over a journal
// that already holds part of them: every event once, the live cursor untouched, progress to 100 %.
func TestBackfillMergesWithoutMovingCursor(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	e := newEnv(t, s, okta.GovernorConfig{})
	s.addHistory(t, 900, t0.Add(-72*time.Hour), t0)
	s.clock.Advance(time.Second)
	ctx := context.Background()
	p := e.poller(t, Config{Lookback: 10 * time.Hour, PageLimit: 100})
	if err := p.CatchUp(ctx, 0); err != nil { // live collection holds the last 10 hours
		t.Fatal(err)
	}
	cur, err := e.st.Cursor(ctx, e.in.ID)
	if err != nil {
		t.Fatal(err)
	}
	client, err := e.clients().Client(e.in)
	if err != nil {
		t.Fatal(err)
	}
	var last Progress
	cfg := BackfillConfig{IntegrationID: e.in.ID, Since: t0.Add(-72 * time.Hour), Until: s.clock.Now(), PageLimit: 100, Clock: s.clock}
	st, err := Backfill(ctx, client, e.st, cfg, nil, nil, func(p Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	assertTruth(t, s, e.st)
	if !st.Done || last.Fraction != 1 || st.Events+st.Duplicates != 900 || st.Duplicates == 0 {
		t.Fatalf("state %+v, last progress %+v", st, last)
	}
	after, _ := e.st.Cursor(ctx, e.in.ID)
	if after.Next != cur.Next {
		t.Fatal("backfill moved the live cursor")
	}
	reqs := s.requests("/api/v1/logs")
	for _, r := range reqs[len(reqs)-int(st.Requests):] {
		if q, _ := url.ParseQuery(r.Query); q.Get("until") == "" && q.Get("after") == "" {
			t.Fatalf("backfill request without a bounded window: %s", r.Query)
		}
	}
}

// TestBackfillResumes stops a backfill part way (the save fails), then reruns it from the saved
// state: it continues where it stopped and the journal ends exact.
func TestBackfillResumes(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	e := newEnv(t, s, okta.GovernorConfig{})
	s.addHistory(t, 1000, t0.Add(-48*time.Hour), t0)
	s.clock.Advance(time.Second)
	ctx := context.Background()
	client, err := e.clients().Client(e.in)
	if err != nil {
		t.Fatal(err)
	}
	cfg := BackfillConfig{IntegrationID: e.in.ID, Since: t0.Add(-48 * time.Hour), Until: t0, Window: 12 * time.Hour, PageLimit: 100, Clock: s.clock}
	var saved BackfillState
	pages := 0
	stopAt := errors.New("stop")
	_, err = Backfill(ctx, client, e.st, cfg, nil, func(st BackfillState) error {
		if pages++; pages == 4 {
			return stopAt
		}
		saved = st
		return nil
	}, nil)
	if !errors.Is(err, stopAt) {
		t.Fatalf("first run: %v", err)
	}
	before := len(s.requests("/api/v1/logs"))
	st, err := Backfill(ctx, client, e.st, cfg, &saved, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertTruth(t, s, e.st)
	// The rerun refetches only the page whose save failed.
	if st.Duplicates != 100 || len(s.requests("/api/v1/logs"))-before > 10+4 {
		t.Fatalf("resume state %+v after %d requests", st, len(s.requests("/api/v1/logs"))-before)
	}
	if _, err := e.st.Cursor(ctx, e.in.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("backfill created a live cursor")
	}
}

// TestBackfillValidation refuses windows Okta cannot serve.
func TestBackfillValidation(t *testing.T) {
	now := t0
	for _, c := range []BackfillConfig{
		{Since: now.Add(-91 * 24 * time.Hour), Until: now},
		{Since: now, Until: now.Add(-time.Hour)},
		{Since: now.Add(-time.Hour)},
	} {
		if err := c.Validate(now); err == nil {
			t.Fatalf("accepted %+v", c)
		}
	}
}
