package collect

import (
	"context"
	mrand "math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/store"
)

// TestNoLossNoDuplicateWithLateEvents runs 30 simulated minutes of traffic, a fifth of it
// committed late (up to 3 minutes), polled every 15 s: the journal ends up holding exactly the
// org's events.
func TestNoLossNoDuplicateWithLateEvents(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	e := newEnv(t, s, okta.GovernorConfig{})
	s.add(t, 500, 0, 0, nil) // history inside the lookback
	s.clock.Advance(time.Minute)
	p := e.poller(t, Config{PageLimit: 100})
	ctx := context.Background()
	rng := mrand.New(mrand.NewPCG(1, 2))
	for range 120 {
		s.add(t, rng.IntN(60), 0.2, 3*time.Minute, rng)
		if err := p.CatchUp(ctx, 0); err != nil {
			t.Fatal(err)
		}
		s.clock.Advance(15 * time.Second)
	}
	s.clock.Advance(5 * time.Minute)
	if err := p.CatchUp(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, pending := s.srv.EventCount(); pending != 0 {
		t.Fatalf("%d events still pending in the org", pending)
	}
	assertTruth(t, s, e.st)
	h := e.health(t)
	if h.State != store.HealthCollecting || h.EventsCollected != int64(len(s.srv.VisibleUUIDs())) {
		t.Fatalf("health %+v", h)
	}
	if h.Lag != 0 {
		t.Fatalf("caught-up lag %s, want 0", h.Lag)
	}
}

// TestRestartResumesFromCursor stops a poller and starts a new one: the new one continues from
// the stored next link, re-reading nothing.
func TestRestartResumesFromCursor(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	e := newEnv(t, s, okta.GovernorConfig{})
	s.add(t, 250, 0, 0, nil)
	s.clock.Advance(time.Second)
	ctx := context.Background()
	if err := e.poller(t, Config{PageLimit: 100}).CatchUp(ctx, 0); err != nil {
		t.Fatal(err)
	}
	before := len(s.requests("/api/v1/logs"))
	s.add(t, 30, 0, 0, nil)
	s.clock.Advance(time.Second)
	if err := e.poller(t, Config{PageLimit: 100}).CatchUp(ctx, 0); err != nil {
		t.Fatal(err)
	}
	reqs := s.requests("/api/v1/logs")[before:]
	if len(reqs) != 1 {
		t.Fatalf("restart made %d requests, want 1", len(reqs))
	}
	q, _ := url.ParseQuery(reqs[0].Query)
	if q.Get("after") == "" {
		t.Fatalf("restart did not resume from the cursor: %s", reqs[0].Query)
	}
	assertTruth(t, s, e.st)
}

// TestFirstRunStartsLookbackAgo checks the first request's since and limit.
func TestFirstRunStartsLookbackAgo(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	e := newEnv(t, s, okta.GovernorConfig{})
	if err := e.poller(t, Config{Lookback: 3 * time.Hour}).CatchUp(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	q, _ := url.ParseQuery(s.requests("/api/v1/logs")[0].Query)
	since, err := time.Parse(time.RFC3339Nano, q.Get("since"))
	if err != nil || !since.Equal(t0.Add(-3*time.Hour)) || q.Get("limit") != "1000" {
		t.Fatalf("first request %v (since %v)", q, since)
	}
}

// TestRejectedCursorRestartsFromOverlap corrupts the stored cursor: Okta refuses it, the poller
// restarts from the last published time minus the overlap, and the journal stays exact.
func TestRejectedCursorRestartsFromOverlap(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	e := newEnv(t, s, okta.GovernorConfig{})
	s.add(t, 120, 0, 0, nil)
	s.clock.Advance(time.Second)
	ctx := context.Background()
	p := e.poller(t, Config{PageLimit: 50, Overlap: 5 * time.Minute})
	if err := p.CatchUp(ctx, 0); err != nil {
		t.Fatal(err)
	}
	cur, err := e.st.Cursor(ctx, e.in.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(cur.Next)
	q := u.Query()
	q.Set("after", "not-a-cursor")
	u.RawQuery = q.Encode()
	cur.Next = u.String()
	if err := e.st.SetCursor(ctx, e.in.ID, cur); err != nil {
		t.Fatal(err)
	}
	s.add(t, 40, 0, 0, nil)
	s.clock.Advance(time.Second)
	if _, err := p.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if h := e.health(t); h.State != store.HealthDegraded || !strings.Contains(h.Reason, "cursor was refused") {
		t.Fatalf("health after refusal %+v", h)
	}
	if err := p.CatchUp(ctx, 0); err != nil {
		t.Fatal(err)
	}
	var q2 url.Values
	for _, r := range s.requests("/api/v1/logs") {
		if q, _ := url.ParseQuery(r.Query); q.Get("after") == "" {
			q2 = q // the restart's first page is the last one without a cursor
		}
	}
	since, _ := time.Parse(time.RFC3339Nano, q2.Get("since"))
	if !since.Equal(cur.LastPublished.Add(-5 * time.Minute)) {
		t.Fatalf("restart since %v, want %v", since, cur.LastPublished.Add(-5*time.Minute))
	}
	assertTruth(t, s, e.st)
	if h := e.health(t); h.State != store.HealthCollecting {
		t.Fatalf("health after recovery %+v", h)
	}
}

// TestCursorOffOrigin treats a stored cursor for another host as lost.
func TestCursorOffOrigin(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	e := newEnv(t, s, okta.GovernorConfig{})
	s.add(t, 10, 0, 0, nil)
	s.clock.Advance(time.Second)
	ctx := context.Background()
	if err := e.st.SetCursor(ctx, e.in.ID, store.Cursor{Next: "http://127.0.0.1:1/api/v1/logs?after=x"}); err != nil {
		t.Fatal(err)
	}
	if err := e.poller(t, Config{}).CatchUp(ctx, 1); err != nil {
		t.Fatal(err)
	}
	assertTruth(t, s, e.st)
	if len(s.requests("/api/v1/logs")) != 1 {
		t.Fatal("the off-origin cursor was requested")
	}
}

// TestIdleStreamOneRequestPerInterval runs the poller on an idle org for ten intervals: exactly
// one request per interval, never chasing the always-present next link.
func TestIdleStreamOneRequestPerInterval(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	e := newEnv(t, s, okta.GovernorConfig{})
	s.add(t, 30, 0, 0, nil)
	s.clock.Advance(time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	p := e.poller(t, Config{PollInterval: 15 * time.Second})
	go func() { done <- p.Run(ctx) }()
	for i := range 11 {
		if err := s.clock.WaitForTimers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if n := len(s.requests("/api/v1/logs")); n != i+1 {
			t.Fatalf("after %d intervals: %d requests", i, n)
		}
		s.clock.Advance(15 * time.Second)
	}
	cancel()
	<-done
	assertTruth(t, s, e.st)
}

// TestBudgetShareNeverExceeded collects a large backlog under tight limits: per rate-limit window
// the collector never sends more than its share, and gets no 429.
func TestBudgetShareNeverExceeded(t *testing.T) {
	limits := oktasim.DefaultRateLimits()
	limits.Buckets[0].PerMinute = 40 // logs; 50 % per token → X-Rate-Limit-Limit 20
	s := newSim(t, simOptions{cfg: oktasim.Config{RateLimits: limits}})
	e := newEnv(t, s, okta.GovernorConfig{Share: 0.5})
	s.add(t, 600, 0, 0, nil)
	s.clock.Advance(time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go drive(ctx, s.clock)
	if err := e.poller(t, Config{PageLimit: 20}).CatchUp(ctx, 0); err != nil {
		t.Fatal(err)
	}
	cancel()
	assertTruth(t, s, e.st)
	reqs := s.requests("/api/v1/logs")
	perWindow := map[int64]int{}
	for _, r := range reqs {
		if r.Status == 429 {
			t.Fatalf("429 at %v", r.Time)
		}
		perWindow[r.Time.Sub(t0).Milliseconds()/60000]++
	}
	for w, n := range perWindow {
		if n > 10 {
			t.Fatalf("minute %d: %d requests, share allows 10", w, n)
		}
	}
	if len(reqs) < 30 {
		t.Fatalf("only %d requests", len(reqs))
	}
}
