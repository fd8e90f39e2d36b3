package oktasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

func uuidsOf(evs []map[string]any) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e["uuid"].(string)
	}
	return out
}

// readAll follows next links of a finite query and returns the uuids, failing past maxPages.
func (o *testOrg) readAll(target string, maxPages int) []string {
	o.t.Helper()
	var got []string
	for pages := 0; target != ""; pages++ {
		if pages > maxPages {
			o.t.Fatalf("query %s does not end", target)
		}
		rec := o.get(target)
		got = append(got, uuidsOf(decodeEvents(o.t, rec))...)
		target = ""
		if n := links(o.t, rec.Header())["next"]; n != "" {
			target = pathOf(n)
		}
	}
	return got
}

func TestLogsLimit(t *testing.T) {
	o := newTestOrg(t, Config{RateLimits: RateLimitConfig{Disabled: true}})
	o.appendEvents(1200, "user.session.start")
	if n := len(decodeEvents(t, o.get("/api/v1/logs"))); n != logsDefaultLimit {
		t.Errorf("default page has %d events, want %d", n, logsDefaultLimit)
	}
	if n := len(decodeEvents(t, o.get("/api/v1/logs?limit=1000"))); n != 1000 {
		t.Errorf("limit=1000 page has %d events", n)
	}
	rec := o.get("/api/v1/logs?limit=0")
	if n := len(decodeEvents(t, rec)); n != 0 {
		t.Errorf("limit=0 page has %d events", n)
	}
	if links(t, rec.Header())["next"] == "" {
		t.Error("limit=0 polling page has no next link")
	}
	for _, bad := range []string{"1001", "-1", "abc", "1.5", ""} {
		wantAPIError(t, o.get("/api/v1/logs?limit="+bad), http.StatusBadRequest, "E0000001")
	}
}

func TestLogsPollingNextAlwaysPresentAndIdleNextIsSelf(t *testing.T) {
	o := newTestOrg(t, Config{})
	o.appendEvents(3, "user.session.start")
	rec := o.get("/api/v1/logs?limit=2")
	if len(rec.Header().Values("Link")) != 2 {
		t.Fatalf("want separate self and next Link header lines, got %q", rec.Header().Values("Link"))
	}
	next := links(t, rec.Header())["next"]
	rec = o.get(pathOf(next))
	if n := len(decodeEvents(t, rec)); n != 1 {
		t.Fatalf("second page has %d events, want 1", n)
	}
	next = links(t, rec.Header())["next"]
	if next == "" {
		t.Fatal("short polling page has no next link")
	}
	for range 2 {
		rec = o.get(pathOf(next))
		if body := strings.TrimSpace(rec.Body.String()); rec.Code != 200 || body != "[]" {
			t.Fatalf("idle poll: status %d body %q, want 200 []", rec.Code, body)
		}
		l := links(t, rec.Header())
		if l["next"] != l["self"] || l["self"] != next {
			t.Fatalf("idle poll: self %q next %q, want both %q", l["self"], l["next"], next)
		}
	}
	// New events appear on the same cursor.
	o.clock.Advance(time.Minute)
	if err := o.srv.Append(testEvent(99, o.clock.Now(), "user.session.end")); err != nil {
		t.Fatal(err)
	}
	evs := decodeEvents(t, o.get(pathOf(next)))
	if len(evs) != 1 || evs[0]["eventType"] != "user.session.end" {
		t.Fatalf("after new event got %v", evs)
	}
}

func TestLogsNextKeepsParamsAndReplacesAfter(t *testing.T) {
	o := newTestOrg(t, Config{})
	o.appendEvents(10, "user.session.start")
	since := url.QueryEscape(t0.Add(-time.Hour).Format(time.RFC3339))
	rec := o.get("/api/v1/logs?since=" + since + "&limit=3&filter=" + url.QueryEscape(`eventType eq "user.session.start"`) + "&q=chrome")
	next, err := url.Parse(links(t, rec.Header())["next"])
	if err != nil {
		t.Fatal(err)
	}
	v := next.Query()
	if v.Get("limit") != "3" || v.Get("filter") != `eventType eq "user.session.start"` || v.Get("q") != "chrome" || v.Get("after") == "" || v.Get("since") != t0.Add(-time.Hour).Format(time.RFC3339) {
		t.Fatalf("next link %s: want since, limit, filter, q kept, after added", next)
	}
	rec = o.get(next.RequestURI())
	next2, _ := url.Parse(links(t, rec.Header())["next"])
	if next2.Query().Get("after") == v.Get("after") {
		t.Fatal("after was not replaced on the next page")
	}
}

func TestLogsBoundedIsPublishedOrderAndFinite(t *testing.T) {
	o := newTestOrg(t, Config{})
	// Persist out of published order: the second event is late.
	late := testEvent(1, t0.Add(-50*time.Minute), "user.session.start")
	early := testEvent(2, t0.Add(-40*time.Minute), "user.session.start")
	if _, err := o.srv.AppendRaw(mustJSON(t, early), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := o.srv.AppendRaw(mustJSON(t, late), 0); err != nil {
		t.Fatal(err)
	}
	for i := 3; i < 8; i++ {
		if err := o.srv.Append(testEvent(i, t0.Add(-time.Duration(30-i)*time.Minute), "user.session.start")); err != nil {
			t.Fatal(err)
		}
	}
	// Polling returns persistence order.
	poll := uuidsOf(decodeEvents(t, o.get("/api/v1/logs?since="+url.QueryEscape(t0.Add(-time.Hour).Format(time.RFC3339)))))
	if fmt.Sprint(poll[5:]) != fmt.Sprint([]string{early.UUID, late.UUID}) {
		t.Fatalf("polling order %v, want persistence order (the two events appended now come last, early then late)", poll)
	}
	q := "since=" + url.QueryEscape(t0.Add(-time.Hour).Format(time.RFC3339)) + "&until=" + url.QueryEscape(t0.Format(time.RFC3339))
	got := o.readAll("/api/v1/logs?limit=3&"+q, 5)
	if len(got) != 7 || got[0] != late.UUID || got[1] != early.UUID {
		t.Fatalf("bounded result %v: want 7 events in published order", got)
	}
	// Exactly a full last page: still no next link after it.
	rec := o.get("/api/v1/logs?limit=7&" + q)
	if len(decodeEvents(t, rec)) != 7 || links(t, rec.Header())["next"] != "" {
		t.Fatalf("a page holding the whole window must have no next link, got %q", rec.Header().Values("Link"))
	}
}

func TestLogsDescending(t *testing.T) {
	o := newTestOrg(t, Config{})
	evs := o.appendEvents(5, "user.session.start")
	got := o.readAll("/api/v1/logs?sortOrder=DESCENDING&limit=2", 5)
	want := []string{evs[4].UUID, evs[3].UUID, evs[2].UUID, evs[1].UUID, evs[0].UUID}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("descending got %v want %v", got, want)
	}
	wantAPIError(t, o.get("/api/v1/logs?sortOrder=sideways"), http.StatusBadRequest, "E0000001")
}

func TestLogsParameterErrors(t *testing.T) {
	o := newTestOrg(t, Config{RateLimits: RateLimitConfig{Disabled: true}})
	o.appendEvents(3, "user.session.start")
	next := links(t, o.get("/api/v1/logs?limit=1").Header())["next"]
	after := url.QueryEscape(must(url.Parse(next)).Query().Get("after"))
	ts := func(d time.Duration) string { return url.QueryEscape(t0.Add(d).Format(time.RFC3339)) }
	cases := []struct {
		name, query string
		status      int
		code        string
	}{
		{"since over 180 days", "since=" + ts(-181*24*time.Hour), 400, "E0000053"},
		{"bad since", "since=yesterday", 400, "E0000001"},
		{"bad until", "until=2026-13-45T00:00:00Z", 400, "E0000001"},
		{"garbage after", "after=garbage", 400, "E0000001"},
		{"tampered after", "after=" + after + "x", 400, "E0000001"},
		{"polling cursor in bounded request", "until=" + ts(0) + "&after=" + after, 400, "E0000001"},
		{"too many keywords", "q=" + url.QueryEscape("a b c d e f g h i j k"), 400, "E0000001"},
		{"keyword too long", "q=" + strings.Repeat("x", 41), 400, "E0000001"},
		{"filter on published", "filter=" + url.QueryEscape(`published gt "2026-01-01T00:00:00Z"`), 400, "E0000053"},
		{"unknown field", "filter=" + url.QueryEscape(`foo.bar eq "x"`), 400, "E0000053"},
		{"attribute case", "filter=" + url.QueryEscape(`EventType eq "user.session.start"`), 400, "E0000053"},
		{"unknown operator", "filter=" + url.QueryEscape(`eventType xx "a"`), 400, "E0000053"},
		{"syntax", "filter=" + url.QueryEscape(`eventType eq`), 400, "E0000053"},
		{"value path", "filter=" + url.QueryEscape(`target[type eq "User"]`), 400, "E0000053"},
		{"co on url", "filter=" + url.QueryEscape(`debugContext.debugData.url co "/oauth/"`), 400, "E0000031"},
		{"co on requestUri", "filter=" + url.QueryEscape(`debugContext.debugData.requestUri co "/oauth/"`), 400, "E0000031"},
		{"repeated parameter", "limit=1&limit=2", 400, "E0000001"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantAPIError(t, o.get("/api/v1/logs?"+c.query), c.status, c.code)
		})
	}
	// Between 90 and 180 days back is accepted.
	if rec := o.get("/api/v1/logs?since=" + ts(-150*24*time.Hour)); rec.Code != 200 {
		t.Fatalf("since 150 days back: %d %s", rec.Code, rec.Body)
	}
}

func TestLogsRetention(t *testing.T) {
	o := newTestOrg(t, Config{})
	old := testEvent(1, t0.Add(-91*24*time.Hour), "user.session.start")
	recent := testEvent(2, t0.Add(-89*24*time.Hour), "user.session.start")
	for _, ev := range []any{old, recent} {
		if _, err := o.srv.AppendRaw(mustJSON(t, ev), 0); err != nil {
			t.Fatal(err)
		}
	}
	since := url.QueryEscape(t0.Add(-179 * 24 * time.Hour).Format(time.RFC3339))
	until := url.QueryEscape(t0.Format(time.RFC3339))
	for _, q := range []string{"since=" + since, "since=" + since + "&until=" + until, "sortOrder=DESCENDING&since=" + since} {
		got := uuidsOf(decodeEvents(t, o.get("/api/v1/logs?"+q)))
		if fmt.Sprint(got) != fmt.Sprint([]string{recent.UUID}) {
			t.Errorf("%s: got %v, want only the event inside 90 days", q, got)
		}
	}
}

func TestLogsFilterAndKeywords(t *testing.T) {
	o := newTestOrg(t, Config{RateLimits: RateLimitConfig{Disabled: true}})
	a := testEvent(1, t0.Add(-3*time.Minute), "user.session.start")
	a.Outcome.Result = "FAILURE"
	b := testEvent(2, t0.Add(-2*time.Minute), "user.authentication.sso")
	b.Client.IPAddress = "203.0.113.9"
	b.Client.UserAgent.Browser = "FIREFOX"
	b.Target = []event.Target{{ID: "0oaapp1", Type: "AppInstance", DisplayName: "Salesforce"}, {ID: "00u000", Type: "User"}}
	c := testEvent(3, t0.Add(-1*time.Minute), "system.api_token.create")
	c.DisplayMessage = "Create API token"
	c.Transaction.Detail = map[string]any{"requestApiTokenId": "00T94e3cn9kSEO3c51s5"}
	for _, ev := range []*event.LogEvent{a, b, c} {
		if err := o.srv.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	A, B, C := a.UUID, b.UUID, c.UUID
	cases := []struct {
		param, expr string
		want        []string
	}{
		{"filter", `eventType eq "user.session.start"`, []string{A}},
		{"filter", `eventType EQ "USER.SESSION.START"`, []string{A}},
		{"filter", `eventType ne "user.session.start"`, []string{B, C}},
		{"filter", `eventType sw "user."`, []string{A, B}},
		{"filter", `eventType co "session"`, []string{A}},
		{"filter", `eventType ew "token.create"`, []string{C}},
		{"filter", `eventType eq "user.session.start" and outcome.result eq "FAILURE"`, []string{A}},
		{"filter", `outcome.result eq "FAILURE" or client.ipAddress eq "203.0.113.9"`, []string{A, B}},
		{"filter", `not (eventType sw "user.")`, []string{C}},
		{"filter", `(eventType eq "user.session.start" or eventType eq "user.authentication.sso") and client.userAgent.browser eq "FIREFOX"`, []string{B}},
		{"filter", `target.type eq "AppInstance"`, []string{B}},
		{"filter", `target.id pr`, []string{B}},
		{"filter", `transaction.detail.requestApiTokenId eq "00T94e3cn9kSEO3c51s5"`, []string{C}},
		{"filter", `uuid eq "` + B + `"`, []string{B}},
		{"filter", `debugContext.debugData.url sw "/idp/"`, []string{A, B, C}},
		{"filter", `transaction.id gt "tx1" and transaction.id le "tx3"`, []string{B, C}},
		{"q", "chrome", []string{A, C}},
		{"q", "FIREFOX 203.0.113.9", []string{B}},
		{"q", "token create", []string{C}},
		{"q", "user.session.start", []string{A}},
		{"q", "salesforce", []string{B}},
		{"q", "sales", nil},
	}
	for _, tc := range cases {
		got := uuidsOf(decodeEvents(t, o.get("/api/v1/logs?"+tc.param+"="+url.QueryEscape(tc.expr))))
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s=%s: got %v, want %v", tc.param, tc.expr, got, tc.want)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Okta's Go SDK merges the first request's query into every next link, so page 2 carries since and
// after; Okta accepts that and the cursor decides where the page starts (okta-api.md §1.2).
func TestLogsSinceWithAfterCursorDecides(t *testing.T) {
	o := newTestOrg(t, Config{RateLimits: RateLimitConfig{Disabled: true}})
	evs := o.appendEvents(6, "user.session.start")
	ts := func(d time.Duration) string { return url.QueryEscape(o.clock.Now().Add(d).Format(time.RFC3339Nano)) }
	for _, mode := range []struct{ name, query string }{
		{"polling", "since=" + ts(-time.Hour)},
		{"bounded", "since=" + ts(-time.Hour) + "&until=" + ts(time.Second)},
		{"descending", "since=" + ts(-time.Hour) + "&sortOrder=DESCENDING"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			rec := o.get("/api/v1/logs?limit=2&" + mode.query)
			first := uuidsOf(decodeEvents(t, rec))
			after := url.QueryEscape(must(url.Parse(links(t, rec.Header())["next"])).Query().Get("after"))
			// A since far before the cursor (the first request's) and one far after it (and after
			// until, and beyond Okta's 180-day limit) leave the page where the cursor puts it.
			var pages []string
			for _, since := range []string{ts(-time.Hour), ts(-200 * 24 * time.Hour), ts(time.Hour), "2000-01-01T00:00:00Z"} {
				rec := o.get("/api/v1/logs?limit=2&" + strings.Replace(mode.query, "since="+ts(-time.Hour), "since="+since, 1) + "&after=" + after)
				if rec.Code != http.StatusOK {
					t.Fatalf("since=%s with after: %d %s", since, rec.Code, rec.Body)
				}
				pages = append(pages, fmt.Sprint(uuidsOf(decodeEvents(t, rec))))
			}
			want := fmt.Sprint([]string{evs[2].UUID, evs[3].UUID})
			if mode.name == "descending" {
				want = fmt.Sprint([]string{evs[3].UUID, evs[2].UUID})
			}
			for i, p := range pages {
				if p != want {
					t.Fatalf("page 2 (first page %v) with since variant %d = %s, want %s", first, i, p, want)
				}
			}
			// Still validated: a since that is no timestamp is refused even with a cursor.
			wantAPIError(t, o.get("/api/v1/logs?limit=2&since=yesterday&after="+after), http.StatusBadRequest, "E0000001")
		})
	}
}

// PublishedUUIDs is the ground truth of a bounded read: exactly what the API pages for the window,
// late events included once visible, nothing older than retention.
func TestPublishedUUIDsIsTheBoundedReadsTruth(t *testing.T) {
	o := newTestOrg(t, Config{RateLimits: RateLimitConfig{Disabled: true}})
	o.appendEvents(30, "user.session.start")
	old := testEvent(100, o.clock.Now().Add(-91*24*time.Hour), "user.session.start")
	late := testEvent(101, o.clock.Now().Add(-20*time.Second), "user.session.start")
	if _, err := o.srv.AppendRaw(mustJSON(t, old), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := o.srv.AppendRaw(mustJSON(t, late), 0); err != nil {
		t.Fatal(err)
	}
	since, until := o.clock.Now().Add(-100*24*time.Hour), o.clock.Now().Add(-5*time.Second)
	got := o.readAll("/api/v1/logs?limit=4&since="+url.QueryEscape(since.Format(time.RFC3339Nano))+"&until="+url.QueryEscape(until.Format(time.RFC3339Nano)), 20)
	want := o.srv.PublishedUUIDs(since, until)
	slices.Sort(got)
	slices.Sort(want)
	if len(want) != 26 || !slices.Equal(got, want) || slices.Contains(want, old.UUID) || !slices.Contains(want, late.UUID) {
		t.Fatalf("API paged %d, truth %d (want 25 + the late one, not the 91-day-old one)", len(got), len(want))
	}
}
