package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// The search benchmark's journal size comes from IDWATCH_SEARCH_BENCH_EVENTS (10000000 for the
// figure in docs/storage.md); the default keeps CI fast. A built database is kept in the
// temporary directory and reused by later runs of the same size.
const envSearchBench = "IDWATCH_SEARCH_BENCH_EVENTS"

// benchTypes is the event-type mix of a workforce org (weights per 1000 events).
var benchTypes = []struct {
	name   string
	weight int
}{
	{"user.authentication.sso", 260}, {"policy.evaluate_sign_on", 220}, {"user.session.start", 120},
	{"user.authentication.auth_via_mfa", 90}, {"user.authentication.verify", 60}, {"app.oauth2.as.token.grant.access_token", 60},
	{"user.session.end", 40}, {"user.mfa.okta_verify.deny_push", 5}, {"system.push.send_factor_verify_push", 40},
	{"user.account.update_password", 10}, {"group.user_membership.add", 15}, {"application.user_membership.add", 10},
	{"user.lifecycle.create", 5}, {"user.lifecycle.suspend", 2}, {"user.account.lock", 3}, {"user.session.access_admin_app", 20},
	{"system.api_token.create", 1}, {"user.account.privilege.grant", 1}, {"policy.rule.update", 2}, {"system.import.complete", 36},
}

// benchEvent makes the i-th event of the benchmark journal: 5000 users (a few busy ones), their
// usual addresses and some others, one or two targets, 4 % failures; ~26 ms apart.
func benchEvent(r *rand.Rand, i int, base time.Time) store.Event {
	w := r.IntN(1000)
	typ := benchTypes[0].name
	for _, t := range benchTypes {
		if w < t.weight {
			typ = t.name
			break
		}
		w -= t.weight
	}
	u := r.IntN(5000)
	if r.IntN(10) == 0 {
		u = r.IntN(20) // service accounts and admins
	}
	ip := fmt.Sprintf("10.%d.%d.%d", u/250, u%250, 1+r.IntN(3))
	if r.IntN(20) == 0 {
		ip = fmt.Sprintf("203.0.%d.%d", r.IntN(256), r.IntN(256))
	}
	outcome := "SUCCESS"
	if r.IntN(25) == 0 {
		outcome = "FAILURE"
	}
	app := r.IntN(200)
	targets := []map[string]any{{"id": fmt.Sprintf("0oa%06d", app), "type": "AppInstance", "alternateId": fmt.Sprintf("App %d", app)}}
	if r.IntN(4) == 0 {
		tu := r.IntN(5000)
		targets = append(targets, map[string]any{"id": fmt.Sprintf("00u%06d", tu), "type": "User", "alternateId": fmt.Sprintf("user%d@acme.example", tu)})
	}
	pub := base.Add(time.Duration(i) * 26 * time.Millisecond)
	uuid := fmt.Sprintf("%08x-bench-11ee-%04x-%012d", i, r.IntN(65536), i)
	raw, _ := json.Marshal(map[string]any{
		"uuid": uuid, "published": pub.Format("2006-01-02T15:04:05.000Z"), "eventType": typ, "version": "0", "severity": "INFO",
		"displayMessage": "benchmark event",
		"actor":          map[string]any{"id": fmt.Sprintf("00u%06d", u), "type": "User", "alternateId": fmt.Sprintf("user%d@acme.example", u), "displayName": "User " + strconv.Itoa(u)},
		"client": map[string]any{"ipAddress": ip, "zone": "null", "userAgent": map[string]any{"rawUserAgent": "Mozilla/5.0 (Macintosh) Chrome/120", "os": "Mac OS X", "browser": "CHROME"},
			"geographicalContext": map[string]any{"country": "United States", "city": "Portland"}},
		"outcome":     map[string]any{"result": outcome},
		"target":      targets,
		"transaction": map[string]any{"type": "WEB", "id": "tx" + strconv.Itoa(i)},
	})
	return store.Event{UUID: uuid, Published: pub, EventType: typ, Raw: raw}
}

var benchBase = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// searchBenchStore opens (building once) the benchmark journal of n events.
func searchBenchStore(b *testing.B, n int) *Store {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("idwatch-search-bench-%d-v1", n))
	path := filepath.Join(dir, "idwatch.db")
	ctx := context.Background()
	if s, err := Open(ctx, Options{Path: path}); err == nil {
		if bd, err := s.Bounds(ctx); err == nil && bd.Count == int64(n) {
			return s
		}
		_ = s.Close()
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if n > bulkBuildAbove {
		bulkBuild(b, s, n)
		b.Logf("built %d events in %s at %s", n, time.Since(start).Round(time.Second), path)
		return s
	}
	r := rand.New(rand.NewPCG(14, 14))
	const page = 5000
	evs := make([]store.Event, 0, page)
	for i := 0; i < n; i += page {
		evs = evs[:0]
		for j := i; j < min(i+page, n); j++ {
			evs = append(evs, benchEvent(r, j, benchBase))
		}
		if _, err := s.AppendPage(ctx, 1+int64(i/page%2), evs, nil); err != nil {
			b.Fatal(err)
		}
		if i%(500*page) == 0 && i > 0 {
			b.Logf("built %d events in %s", i, time.Since(start).Round(time.Second))
		}
	}
	b.Logf("built %d events in %s at %s", n, time.Since(start).Round(time.Second), path)
	return s
}

// tableBytes sums the pages of the named tables and indexes (dbstat).
func tableBytes(b *testing.B, db *sql.DB, names ...string) int64 {
	b.Helper()
	var total int64
	for _, n := range names {
		var v sql.NullInt64
		if err := db.QueryRow(`SELECT SUM(pgsize) FROM dbstat WHERE name = $1`, n).Scan(&v); err != nil {
			b.Fatal(err)
		}
		total += v.Int64
	}
	return total
}

// BenchmarkSearchEvents measures the first page (50 events) of searches on the indexed fields,
// reporting p50 and p99 per query, and the bytes per event the index adds.
func BenchmarkSearchEvents(b *testing.B) {
	n := 20_000
	if v := os.Getenv(envSearchBench); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("%s=%q: want a number of events >= 1000", envSearchBench, v)
		}
	}
	s := searchBenchStore(b, n)
	defer s.Close()
	ctx := context.Background()
	index := tableBytes(b, s.r, "event_index", "event_terms", "search_names", "search_entities", "sqlite_autoindex_search_names_1",
		"sqlite_autoindex_search_entities_1", "search_entities_alt")
	journal := tableBytes(b, s.r, "journal", "journal_integration_uuid", "journal_published")
	b.Logf("%d events: index %.1f bytes/event (event_index %.1f, event_terms %.1f), journal %.1f bytes/event", n,
		float64(index)/float64(n), float64(tableBytes(b, s.r, "event_index"))/float64(n), float64(tableBytes(b, s.r, "event_terms"))/float64(n),
		float64(journal)/float64(n))
	end := benchBase.Add(time.Duration(n) * 26 * time.Millisecond)
	queries := []struct {
		name string
		q    store.EventQuery
	}{
		{"newest", store.EventQuery{}},
		{"actor", store.EventQuery{Actor: "user4242@acme.example"}},
		{"busy_actor_oldest", store.EventQuery{Actor: "00u000007", Oldest: true}},
		{"ip", store.EventQuery{IP: "10.3.42.2"}},
		{"target", store.EventQuery{Target: "0oa000123"}},
		{"rare_type", store.EventQuery{EventTypes: []string{"system.api_token.create"}}},
		{"type_prefix", store.EventQuery{TypePrefixes: []string{"user.session."}}},
		{"failures_last_hour", store.EventQuery{Outcomes: []string{"FAILURE"}, Since: end.Add(-time.Hour)}},
		{"actor_failures_range", store.EventQuery{Actor: "user4242@acme.example", Outcomes: []string{"FAILURE"}, Since: benchBase, Until: end}},
		{"time_range_middle", store.EventQuery{Since: benchBase.Add(end.Sub(benchBase) / 2), Until: end}},
		{"actor_text", store.EventQuery{Actor: "user4242@acme.example", Text: "portland"}},
	}
	for _, c := range queries {
		b.Run(c.name, func(b *testing.B) {
			var took []time.Duration
			got := 0
			for b.Loop() {
				t0 := time.Now()
				p, err := s.SearchEvents(ctx, c.q)
				took = append(took, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				got = len(p.Events)
			}
			if got == 0 {
				b.Fatalf("%s found nothing", c.name)
			}
			reportPercentiles(b, took)
		})
	}
}

// reportPercentiles reports the p50 and p99 of per-query timings in milliseconds.
func reportPercentiles(b *testing.B, took []time.Duration) {
	slices.Sort(took)
	at := func(p float64) float64 {
		return float64(took[min(len(took)-1, int(p*float64(len(took))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkAlertList measures the alert list's first page (50) and a page deep in the list on
// 100,000 alerts, with the filters an analyst uses, reporting p50 and p99 per query.
func BenchmarkAlertList(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: filepath.Join(b.TempDir(), "idwatch.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(1, 2))
	rules := []string{"okta_mfa_push_fatigue", "okta_password_spray", "okta_admin_grant", "okta_session_hijack", "okta_new_country"}
	sevs := []string{"low", "medium", "high", "critical"}
	batch := make([]store.Alert, 0, 1000)
	for i := 0; i < n; i++ {
		u := r.IntN(5000)
		body, _ := json.Marshal(map[string]any{"class_uid": 2004, "finding_info": map[string]any{"uid": "al" + strconv.Itoa(i), "title": "Detection",
			"related_events": []map[string]any{{"uid": "ev" + strconv.Itoa(i)}}, "attacks": []map[string]any{{"technique": map[string]any{"uid": "T1621"}}}},
			"message": "a benchmark alert with a message of ordinary length, as rules write them",
			"unmapped": map[string]any{"entities": []string{"user:user" + strconv.Itoa(u) + "@acme.example", fmt.Sprintf("user:00u%06d", u),
				fmt.Sprintf("ip:10.0.%d.%d", u/250, u%250)}}})
		batch = append(batch, store.Alert{ID: "al" + strconv.Itoa(i), RuleID: rules[r.IntN(len(rules))], Severity: sevs[r.IntN(len(sevs))],
			Time: benchBase.Add(time.Duration(i) * 2 * time.Second), IntegrationID: 1 + int64(r.IntN(3)), Body: body})
		if len(batch) == cap(batch) {
			if _, err := s.AppendAlerts(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	// A tenth acknowledged, a few resolved or suppressed, as a triaged queue looks.
	for i := 0; i < n; i += 10 {
		status := store.AlertStatusChange{Status: store.AlertAcknowledged, By: "ana"}
		if i%50 == 0 {
			status = store.AlertStatusChange{Status: store.AlertSuppressed, By: "ana", Reason: "known scanner"}
		}
		if _, err := s.SetAlertStatus(ctx, []string{"al" + strconv.Itoa(i)}, status); err != nil {
			b.Fatal(err)
		}
	}
	deep, err := s.SearchAlerts(ctx, store.AlertQuery{Limit: 1000})
	if err != nil {
		b.Fatal(err)
	}
	queries := []struct {
		name string
		q    store.AlertQuery
	}{
		{"all", store.AlertQuery{}},
		{"status_new", store.AlertQuery{Statuses: []string{store.AlertNew}}},
		{"status_suppressed", store.AlertQuery{Statuses: []string{store.AlertSuppressed}}},
		{"severity_critical_new", store.AlertQuery{Severities: []string{"critical"}, Statuses: []string{store.AlertNew}}},
		{"rule", store.AlertQuery{Rules: []string{"okta_admin_grant"}}},
		{"identity", store.AlertQuery{Identity: "user4242@acme.example"}},
		{"integration_last_day", store.AlertQuery{Integrations: []int64{2}, Since: benchBase.Add(n*2*time.Second - 24*time.Hour)}},
		{"page_21", store.AlertQuery{Cursor: deep.Next}},
	}
	for _, c := range queries {
		b.Run(c.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				t0 := time.Now()
				p, err := s.SearchAlerts(ctx, c.q)
				took = append(took, time.Since(t0))
				if err != nil || len(p.Alerts) == 0 {
					b.Fatalf("%s: %d alerts, %v", c.name, len(p.Alerts), err)
				}
			}
			reportPercentiles(b, took)
		})
	}
}
