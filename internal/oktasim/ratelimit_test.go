package oktasim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

func rateHeaders(t *testing.T, rec *httptest.ResponseRecorder) (limit, remaining int, reset int64) {
	t.Helper()
	h := rec.Header()
	var err error
	if limit, err = strconv.Atoi(h.Get("X-Rate-Limit-Limit")); err != nil {
		t.Fatalf("X-Rate-Limit-Limit %q", h.Get("X-Rate-Limit-Limit"))
	}
	if remaining, err = strconv.Atoi(h.Get("X-Rate-Limit-Remaining")); err != nil {
		t.Fatalf("X-Rate-Limit-Remaining %q", h.Get("X-Rate-Limit-Remaining"))
	}
	if reset, err = strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64); err != nil {
		t.Fatalf("X-Rate-Limit-Reset %q", h.Get("X-Rate-Limit-Reset"))
	}
	return
}

func TestHeadersOnEveryResponse(t *testing.T) {
	o := newTestOrg(t, Config{})
	o.appendEvents(1, "user.session.start")
	cases := map[string]*httptest.ResponseRecorder{
		"200":          o.get("/api/v1/logs"),
		"400":          o.get("/api/v1/logs?limit=5000"),
		"401":          o.getAs("bogus", "/api/v1/logs"),
		"401 no token": o.getAs("", "/api/v1/users"),
		"404":          o.get("/api/v1/nothing-here"),
	}
	for name, rec := range cases {
		if rec.Header().Get("Date") == "" || len(rec.Header().Get("X-Okta-Request-Id")) < 20 {
			t.Errorf("%s: Date %q X-Okta-Request-Id %q", name, rec.Header().Get("Date"), rec.Header().Get("X-Okta-Request-Id"))
		}
		rateHeaders(t, rec)
	}
	if d, err := http.ParseTime(cases["200"].Header().Get("Date")); err != nil || !d.Equal(t0) {
		t.Errorf("Date %v (%v), want the org clock %v", d, err, t0)
	}
	if a, b := cases["200"].Header().Get("X-Okta-Request-Id"), cases["400"].Header().Get("X-Okta-Request-Id"); a == b {
		t.Error("request ids repeat")
	}
	wantAPIError(t, cases["404"], http.StatusNotFound, "E0000007")
	req := httptest.NewRequest(http.MethodPost, "/api/v1/logs", nil)
	req.Header.Set("Authorization", "SSWS "+o.token)
	rec := httptest.NewRecorder()
	o.srv.ServeHTTP(rec, req)
	wantAPIError(t, rec, http.StatusMethodNotAllowed, "E0000022")
}

func TestLogsBucketPerTokenShareAndReset(t *testing.T) {
	o := newTestOrg(t, Config{})
	_, tok2 := o.srv.Tokens().Add(APIToken{Name: "second", Roles: []Role{RoleReadOnlyAdmin}})
	_, tok3 := o.srv.Tokens().Add(APIToken{Name: "third", Roles: []Role{RoleReadOnlyAdmin}})
	o.clock.Advance(1234 * time.Millisecond) // windows start at the first request, not on the minute
	first := o.clock.Now()
	for i := 1; i <= 60; i++ {
		rec := o.get("/api/v1/logs")
		if rec.Code != 200 {
			t.Fatalf("request %d: status %d", i, rec.Code)
		}
		limit, remaining, reset := rateHeaders(t, rec)
		if limit != 60 || remaining != 60-i || reset != first.Add(time.Minute).Unix()+1 {
			t.Fatalf("request %d: headers %d/%d/%d, want 60/%d/%d", i, limit, remaining, reset, 60-i, first.Add(time.Minute).Unix()+1)
		}
		o.clock.Advance(100 * time.Millisecond)
	}
	rec := o.get("/api/v1/logs")
	wantAPIError(t, rec, http.StatusTooManyRequests, "E0000047")
	if limit, remaining, _ := rateHeaders(t, rec); limit != 60 || remaining != 0 {
		t.Fatalf("429 headers %d/%d, want 60/0", limit, remaining)
	}
	// A second token has its own half of the bucket; the org's 120 are then spent.
	for i := 0; i < 60; i++ {
		if rec := o.getAs(tok2, "/api/v1/logs"); rec.Code != 200 {
			t.Fatalf("second token request %d: %d", i, rec.Code)
		}
	}
	rec = o.getAs(tok3, "/api/v1/logs")
	wantAPIError(t, rec, http.StatusTooManyRequests, "E0000047")
	// Other buckets are unaffected.
	if rec := o.get("/api/v1/users"); rec.Code != 200 {
		t.Fatalf("users while logs is exhausted: %d", rec.Code)
	}
	if limit, _, _ := rateHeaders(t, o.get("/api/v1/users")); limit != 300 {
		t.Fatalf("users bucket limit per token %d, want 300 (50%% of 600)", limit)
	}
	// The window ends 60 s after its first request.
	o.clock.Set(first.Add(time.Minute))
	if rec := o.get("/api/v1/logs"); rec.Code != 200 {
		t.Fatalf("after reset: %d", rec.Code)
	}
	// The org crossed 60 % of the bucket (a warning) and then exceeded it (a violation); the
	// first token exceeding only its own share wrote nothing.
	var types []string
	for _, e := range decodeEvents(t, o.get("/api/v1/logs?filter="+url.QueryEscape(`eventType sw "system.org.rate_limit."`))) {
		types = append(types, e["eventType"].(string))
		if e["transaction"].(map[string]any)["id"] == "" {
			t.Error("rate limit event without the request id")
		}
	}
	if fmt.Sprint(types) != "[system.org.rate_limit.warning system.org.rate_limit.violation]" {
		t.Fatalf("rate limit events %v", types)
	}
}

func TestDefaultBuckets(t *testing.T) {
	l := newRateLimiter(DefaultRateLimits())
	cases := []struct {
		method, path, bucket string
		perMinute            int
	}{
		{"GET", "/api/v1/logs", "logs", 120},
		{"GET", "/api/v1/users", "users-list", 600},
		{"POST", "/api/v1/users", "users-list", 600},
		{"GET", "/api/v1/users/00u1", "user-get", 2000},
		{"DELETE", "/api/v1/users/00u1", "users", 600},
		{"POST", "/api/v1/users/00u1/lifecycle/suspend", "users", 600},
		{"GET", "/api/v1/groups", "groups-list", 500},
		{"GET", "/api/v1/meta/schemas/user/default", "api", 1200},
	}
	for _, c := range cases {
		b, ok := l.bucket(c.method, c.path)
		if !ok || b.Name != c.bucket || b.PerMinute != c.perMinute {
			t.Errorf("%s %s: bucket %+v, want %s %d", c.method, c.path, b, c.bucket, c.perMinute)
		}
	}
	if _, ok := l.bucket("GET", "/oauth2/v1/keys"); ok {
		t.Error("/oauth2/v1/keys must not be rate limited")
	}
}

func TestConcurrencyLimit(t *testing.T) {
	cfg := DefaultRateLimits()
	cfg.Concurrency = 1
	o := newTestOrg(t, Config{RateLimits: cfg})
	entered, release := make(chan struct{}), make(chan struct{})
	o.srv.HandleAPI(http.MethodGet, "/api/v1/slow", PermLogsRead, func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		w.WriteHeader(http.StatusOK)
	})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		o.get("/api/v1/slow")
	}()
	<-entered
	rec := o.get("/api/v1/logs")
	wantAPIError(t, rec, http.StatusTooManyRequests, "E0000047")
	limit, remaining, reset := rateHeaders(t, rec)
	if limit != 0 || remaining != 0 || reset <= t0.Unix() {
		t.Fatalf("concurrency 429 headers %d/%d/%d, want 0/0/estimate after now", limit, remaining, reset)
	}
	wantAPIError(t, o.get("/api/v1/logs"), http.StatusTooManyRequests, "E0000047") // logged once a minute
	close(release)
	wg.Wait()
	evs := decodeEvents(t, o.get("/api/v1/logs?filter="+url.QueryEscape(`eventType eq "core.concurrency.org.limit.violation"`)))
	if len(evs) != 1 {
		t.Fatalf("%d concurrency violation events, want 1", len(evs))
	}
	if rec := o.get("/api/v1/logs"); rec.Code != 200 {
		t.Fatalf("after the slot freed: %d", rec.Code)
	}
}

func TestRateLimitsDisabledAndValidated(t *testing.T) {
	o := newTestOrg(t, Config{RateLimits: RateLimitConfig{Disabled: true}})
	for i := 0; i < 200; i++ {
		if rec := o.get("/api/v1/logs"); rec.Code != 200 {
			t.Fatalf("request %d with limits off: %d", i, rec.Code)
		}
	}
	bad := DefaultRateLimits()
	bad.SharePercent = 0
	if err := o.srv.SetRateLimits(bad); err == nil {
		t.Fatal("share 0% accepted")
	}
	if _, err := New(Config{LateShare: 2}); err == nil {
		t.Fatal("late share 2 accepted")
	}
	if _, err := New(Config{OrgURL: "ftp://x"}); err == nil {
		t.Fatal("ftp org URL accepted")
	}
}
