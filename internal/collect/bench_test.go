package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
)

// benchOrg is a wall-clock org holding n events published over the last hour, with the logs
// bucket set so that one token's share (the X-Rate-Limit-Limit the client sees) is perMinute.
func benchOrg(b *testing.B, n, perMinute int, limited bool) (*sim, *env) {
	b.Helper()
	limits := oktasim.DefaultRateLimits()
	limits.Buckets[0].PerMinute = 2 * perMinute // 50 % per token
	limits.Disabled = !limited
	s := newSim(b, simOptions{wall: true, cfg: oktasim.Config{RateLimits: limits, RequestLogSize: 1 << 20}})
	from := time.Now().Add(-time.Hour)
	step := time.Hour / time.Duration(n)
	for i := range n {
		raw, _ := json.Marshal(map[string]any{"uuid": fmt.Sprintf("%08x-0000-4000-a000-%012d", i>>16, i),
			"published": from.Add(time.Duration(i) * step).Format(time.RFC3339Nano), "eventType": "user.session.start",
			"version": "0", "severity": "INFO", "displayMessage": "User login to Okta",
			"actor":   map[string]any{"id": "00u1", "type": "User", "alternateId": "jane@acme.example", "displayName": "Jane Doe"},
			"client":  map[string]any{"ipAddress": "198.51.100.23", "userAgent": map[string]any{"rawUserAgent": "Mozilla/5.0"}},
			"outcome": map[string]any{"result": "SUCCESS"}, "legacyEventType": "core.user_auth.login_success"})
		if _, err := s.srv.AppendRaw(raw, 0); err != nil {
			b.Fatal(err)
		}
	}
	e := newEnv(b, s, okta.GovernorConfig{Share: 0.5, LaneShares: map[okta.Lane]float64{okta.LaneBackfill: 0.5}})
	return s, e
}

func runBackfill(b *testing.B, s *sim, e *env) (BackfillState, time.Duration) {
	b.Helper()
	client, err := e.clients().Client(e.in)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	start := time.Now()
	st, err := Backfill(context.Background(), client, e.st, BackfillConfig{IntegrationID: e.in.ID,
		Since: now.Add(-2 * time.Hour), Until: now}, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	return st, time.Since(start)
}

// BenchmarkBackfillThroughput is the local cost of backfill (no rate limit): pages served by
// oktasim, decoded and merged into the SQLite journal. IDWATCH_BENCH_EVENTS sets the size
// (default 20,000).
func BenchmarkBackfillThroughput(b *testing.B) {
	n := benchEvents(b, 20_000)
	for b.Loop() {
		b.StopTimer()
		s, e := benchOrg(b, n, 1_000_000, false)
		b.StartTimer()
		st, d := runBackfill(b, s, e)
		if st.Events != int64(n) {
			b.Fatalf("%d events", st.Events)
		}
		b.ReportMetric(float64(n)/d.Seconds(), "events/s")
	}
}

// BenchmarkBackfillCapped backfills IDWATCH_BENCH_EVENTS (default 1,000,000) events under a
// 50 % backfill share of a logs limit sized so the job needs two rate-limit windows, and reports
// the rate over the whole run against the ceiling share × limit × 1000 events/min, and the 429s.
// Runs much shorter than two windows can exceed the ceiling by spending a first window in a burst;
// at the default size the governor paces the job across the windows. It takes
// about a minute, so it runs only with IDWATCH_BENCH_BACKFILL=1.
func BenchmarkBackfillCapped(b *testing.B) {
	if os.Getenv("IDWATCH_BENCH_BACKFILL") == "" {
		b.Skip("set IDWATCH_BENCH_BACKFILL=1 (and optionally IDWATCH_BENCH_EVENTS) to run the one-minute capped backfill")
	}
	n := benchEvents(b, 1_000_000)
	limit := n / 1000 // requests/min: at a 50 % share the job needs exactly two windows
	for b.Loop() {
		b.StopTimer()
		s, e := benchOrg(b, n, limit, true)
		b.StartTimer()
		st, d := runBackfill(b, s, e)
		if st.Events != int64(n) {
			b.Fatalf("%d events of %d", st.Events, n)
		}
		tooMany := 0
		for _, r := range s.requests("/api/v1/logs") {
			if r.Status == 429 {
				tooMany++
			}
		}
		ceiling := 0.5 * float64(limit) * 1000
		rate := float64(n) / d.Minutes()
		b.ReportMetric(rate, "events/min")
		b.ReportMetric(100*rate/ceiling, "%-of-ceiling")
		b.ReportMetric(ceiling, "ceiling-events/min")
		b.ReportMetric(float64(tooMany), "429s")
		b.ReportMetric(float64(st.Requests), "requests")
		if tooMany > 0 {
			b.Fatalf("%d responses were 429", tooMany)
		}
	}
}

// benchEvents is IDWATCH_BENCH_EVENTS or def.
func benchEvents(b *testing.B, def int) int {
	v := os.Getenv("IDWATCH_BENCH_EVENTS")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 2000 {
		b.Fatalf("IDWATCH_BENCH_EVENTS=%q: want a number ≥ 2000", v)
	}
	return n
}
