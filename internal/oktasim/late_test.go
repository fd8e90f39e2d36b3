package oktasim

import (
	"encoding/json"

	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// httpClientOrg serves an org on 127.0.0.1 and fetches pages as an unmodified client would.
type httpClientOrg struct {
	*testOrg
	ts *httptest.Server
}

func (o *httpClientOrg) fetch(t *testing.T, target string) ([]map[string]any, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Authorization", "SSWS "+o.token)
	req.Header.Set("Accept", "application/json")
	resp, err := o.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", target, resp.StatusCode)
	}
	var evs []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&evs); err != nil {
		t.Fatal(err)
	}
	return evs, links(t, resp.Header)
}

// TestCursorClientGetsLateEventsNaiveClientMissesThem runs live traffic with late events past two
// clients: one following Okta's documented algorithm (poll with since once, then follow next,
// dedupe by uuid) and one paging by published time (since = last published seen, until = now).
func TestCursorClientGetsLateEventsNaiveClientMissesThem(t *testing.T) {
	o := &httpClientOrg{testOrg: newTestOrg(t, Config{LateShare: 0.2, LateDelay: 3 * time.Minute, Seed: 7,
		RateLimits: RateLimitConfig{Disabled: true}})}
	o.ts = httptest.NewServer(o.srv)
	defer o.ts.Close()

	start := o.clock.Now()
	cursorSeen := map[string]int{}
	naiveSeen := map[string]bool{}
	next := o.ts.URL + "/api/v1/logs?limit=50&since=" + url.QueryEscape(start.Add(-time.Minute).Format(time.RFC3339))
	naiveSince := start.Add(-time.Minute)

	pollCursor := func() {
		for pages := 0; ; pages++ {
			if pages > 1000 {
				t.Fatal("cursor client never caught up")
			}
			evs, l := o.fetch(t, next)
			for _, e := range evs {
				cursorSeen[e["uuid"].(string)]++
			}
			if l["next"] == "" {
				t.Fatal("polling page without next link")
			}
			next = l["next"]
			if len(evs) < 50 {
				return
			}
		}
	}
	pollNaive := func() {
		until := o.clock.Now()
		target := o.ts.URL + "/api/v1/logs?limit=1000&since=" + url.QueryEscape(naiveSince.Format(time.RFC3339Nano)) +
			"&until=" + url.QueryEscape(until.Format(time.RFC3339Nano))
		for target != "" {
			evs, l := o.fetch(t, target)
			for _, e := range evs {
				naiveSeen[e["uuid"].(string)] = true
				pub, err := time.Parse(time.RFC3339Nano, e["published"].(string))
				if err != nil {
					t.Fatal(err)
				}
				if pub.After(naiveSince) {
					naiveSince = pub
				}
			}
			target = l["next"]
		}
	}

	all := map[string]bool{}
	n := 0
	for step := 0; step < 60; step++ {
		now := o.clock.Advance(10 * time.Second)
		for i := 0; i < 5; i++ {
			ev := testEvent(n, now.Add(-time.Duration(5-i)*time.Second), "user.session.start")
			n++
			all[ev.UUID] = true
			if err := o.srv.Append(ev); err != nil {
				t.Fatal(err)
			}
		}
		pollCursor()
		pollNaive()
	}
	// Let every late event become visible, then both clients poll once more.
	o.clock.Advance(5 * time.Minute)
	pollCursor()
	pollNaive()

	if len(cursorSeen) != len(all) {
		t.Errorf("cursor client received %d of %d events", len(cursorSeen), len(all))
	}
	for id, c := range cursorSeen {
		if c != 1 {
			t.Errorf("cursor client received %s %d times, want exactly once", id, c)
		}
		if !all[id] {
			t.Errorf("cursor client received unknown event %s", id)
		}
	}
	missed := 0
	for id := range all {
		if !naiveSeen[id] {
			missed++
		}
	}
	if missed == 0 {
		t.Fatal("the client paging by published time missed no late events; late events are not emulated")
	}
	t.Logf("%d events; cursor client got all exactly once; published-time client missed %d late events", len(all), missed)
	if visible, pending := o.srv.EventCount(); visible != len(all) || pending != 0 {
		t.Fatalf("org has %d visible, %d pending events; want %d, 0", visible, pending, len(all))
	}
}
