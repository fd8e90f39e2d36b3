package oktasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// fakeStories is a StorylineSource producing a three-event spray.
type fakeStories struct{ n int }

func (f *fakeStories) Storylines() []StorylineInfo {
	return []StorylineInfo{{Name: "password_spray", Description: "spray", Detections: []string{"okta_password_spray"}}}
}

func (f *fakeStories) Storyline(name string, at time.Time) (Story, error) {
	if name != "password_spray" {
		return Story{}, fmt.Errorf("unknown storyline %q", name)
	}
	f.n++
	st := Story{ID: fmt.Sprintf("st%d", f.n), Name: name, Detections: []string{"okta_password_spray"}}
	for i := 0; i < 3; i++ {
		st.Events = append(st.Events, testEvent(1000*f.n+i, at.Add(time.Duration(i)*time.Second), "user.session.start"))
	}
	return st, nil
}

func (o *testOrg) control(method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set(ControlKeyHeader, "control-key")
	rec := httptest.NewRecorder()
	o.srv.ServeHTTP(rec, req)
	return rec
}

func TestControlAPI(t *testing.T) {
	o := newTestOrg(t, Config{})
	o.srv.SetStorylines(&fakeStories{})

	req := httptest.NewRequest(http.MethodGet, "/_sim/truth", nil)
	rec := httptest.NewRecorder()
	o.srv.ServeHTTP(rec, req)
	wantAPIError(t, rec, http.StatusUnauthorized, "E0000011")

	rec = o.control("POST", "/_sim/storylines", `{"name":"password_spray","at":"`+t0.Add(-time.Minute).Format(time.RFC3339)+`"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("inject: %d %s", rec.Code, rec.Body)
	}
	var truth StoryTruth
	if err := json.Unmarshal(rec.Body.Bytes(), &truth); err != nil || truth.ID != "st1" || len(truth.UUIDs) != 3 || truth.Detections[0] != "okta_password_spray" {
		t.Fatalf("inject result %s (%v)", rec.Body, err)
	}
	wantAPIError(t, o.control("POST", "/_sim/storylines", `{"name":"nope"}`), http.StatusBadRequest, "E0000001")

	ev := testEvent(77, t0.Add(-time.Hour), "user.account.lock")
	rec = o.control("POST", "/_sim/events?delay=2m", string(mustJSON(t, []any{ev})))
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), ev.UUID) {
		t.Fatalf("append: %d %s", rec.Code, rec.Body)
	}
	wantAPIError(t, o.control("POST", "/_sim/events", `{"uuid":"x","published":"2026-01-01T00:00:00Z","eventType":"a"}`), http.StatusBadRequest, "E0000001")
	wantAPIError(t, o.control("POST", "/_sim/events", `[1,2`), http.StatusBadRequest, "E0000003")

	var gt struct {
		Visible    []string     `json:"visible"`
		Pending    int          `json:"pending"`
		Storylines []StoryTruth `json:"storylines"`
	}
	rec = o.control("GET", "/_sim/truth", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &gt); err != nil {
		t.Fatal(err)
	}
	if len(gt.Visible) != 3 || gt.Pending != 1 || len(gt.Storylines) != 1 {
		t.Fatalf("truth before delay: %s", rec.Body)
	}
	o.clock.Advance(2 * time.Minute)
	_ = json.Unmarshal(o.control("GET", "/_sim/truth", "").Body.Bytes(), &gt)
	if len(gt.Visible) != 4 || gt.Pending != 0 {
		t.Fatalf("truth after delay: %d visible %d pending", len(gt.Visible), gt.Pending)
	}

	rec = o.control("POST", "/_sim/tokens", `{"name":"reports","roles":["REPORT_ADMIN"]}`)
	var tok struct{ ID, Token, AdminID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || !strings.HasPrefix(tok.ID, "00T") || tok.Token == "" || !strings.HasPrefix(tok.AdminID, "00u") {
		t.Fatalf("token: %s", rec.Body)
	}
	wantAPIError(t, o.getAs(tok.Token, "/api/v1/users"), http.StatusForbidden, "E0000006")
	if me := o.getAs(tok.Token, "/api/v1/users/me"); me.Code != http.StatusOK || !strings.Contains(me.Body.String(), tok.AdminID) {
		t.Fatalf("the token's admin is not in the directory: %d %s", me.Code, me.Body)
	}
	wantAPIError(t, o.control("POST", "/_sim/tokens", `{"roles":["EMPEROR"]}`), http.StatusBadRequest, "E0000001")

	cfg := DefaultRateLimits()
	cfg.Buckets[0].PerMinute = 2
	if rec := o.control("PUT", "/_sim/ratelimits", string(mustJSON(t, cfg))); rec.Code != 200 {
		t.Fatalf("set rate limits: %d %s", rec.Code, rec.Body)
	}
	o.get("/api/v1/logs")
	wantAPIError(t, o.get("/api/v1/logs"), http.StatusTooManyRequests, "E0000047")
	wantAPIError(t, o.control("PUT", "/_sim/ratelimits", `{"concurrency":0}`), http.StatusBadRequest, "E0000001")

	var reqs []RequestRecord
	if err := json.Unmarshal(o.control("GET", "/_sim/requests", "").Body.Bytes(), &reqs); err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 4 || reqs[3].Status != 429 || reqs[3].Path != "/api/v1/logs" || reqs[3].Principal == "" {
		t.Fatalf("request log %+v", reqs)
	}
	wantAPIError(t, o.control("GET", "/_sim/nothing", ""), http.StatusNotFound, "E0000007")
	wantAPIError(t, o.control("GET", "/_sim/requests?after=x", ""), http.StatusBadRequest, "E0000001")
}

// stepWorkforce emits one event per minute.
type stepWorkforce struct {
	last time.Time
	n    int
}

func (w *stepWorkforce) Advance(to time.Time, emit func(*event.LogEvent)) {
	for t := w.last.Add(time.Minute); !t.After(to); t = t.Add(time.Minute) {
		emit(testEvent(w.n, t, "user.session.start"))
		w.n++
		w.last = t
	}
}

func TestFeedMergesStoriesInPublishedOrder(t *testing.T) {
	o := newTestOrg(t, Config{})
	w := &stepWorkforce{last: t0.Add(-10 * time.Minute)}
	st, _ := (&fakeStories{n: 5}).Storyline("password_spray", t0.Add(-5*time.Minute-30*time.Second))
	if err := o.srv.Feed(w, t0, st); err != nil {
		t.Fatal(err)
	}
	evs := decodeEvents(t, o.get("/api/v1/logs?limit=1000"))
	if len(evs) != 13 {
		t.Fatalf("%d events, want 10 benign + 3 story", len(evs))
	}
	var last string
	for _, e := range evs {
		if p := e["published"].(string); p < last {
			t.Fatalf("persistence order is not published order without late events: %s after %s", p, last)
		} else {
			last = p
		}
	}
	if truths := o.srv.StoryTruths(); len(truths) != 1 || truths[0].ID != "st6" {
		t.Fatalf("truths %+v", truths)
	}
}
