package webui

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/server"
)

func view(name, state string, events, requests, throttled int64, reason string) server.IntegrationView {
	v := server.IntegrationView{Name: name, State: state, EventsCollected: events, Requests: requests, RateLimited: throttled}
	if reason != "" {
		v.LastError = &server.Problem{Reason: reason, Fix: "fix it"}
	}
	return v
}

// TestSeries: per-minute and per-hour growth of the running totals, counted from the first
// sample (totals from before the server started are not a burst), and state changes only.
func TestSeries(t *testing.T) {
	s := newSeries()
	t0 := time.Date(2026, 12, 4, 10, 0, 30, 0, time.UTC)
	s.observe(t0, []server.IntegrationView{view("a", "collecting", 1000, 50, 0, "")})
	s.observe(t0.Add(1*time.Minute), []server.IntegrationView{view("a", "collecting", 1010, 52, 0, "")})
	s.observe(t0.Add(2*time.Minute), []server.IntegrationView{view("a", "degraded", 1040, 60, 3, "429s")})
	s.observe(t0.Add(2*time.Minute+20*time.Second), []server.IntegrationView{view("a", "degraded", 1040, 61, 4, "429s")})
	now := t0.Add(2*time.Minute + 30*time.Second)

	pm := s.perMinute("a", now)
	if len(pm) != 60 {
		t.Fatalf("%d minutes", len(pm))
	}
	var sum float64
	for _, v := range pm {
		sum += v
	}
	if sum != 40 || pm[59] != 30 || pm[58] != 10 {
		t.Errorf("per minute: last values %v, sum %v; want 10, 30 and a sum of 40", pm[55:], sum)
	}
	ev, req, thr := s.hourly("a", now)
	if len(ev) != 24 || ev[23].V != 40 || req[23].V != 11 || thr[23].V != 4 || ev[22].V != 0 {
		t.Errorf("hourly: events %v, requests %v, 429s %v", ev[23], req[23], thr[23])
	}
	if !ev[23].T.Equal(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("last hour starts at %v", ev[23].T)
	}
	h := s.history("a")
	if len(h) != 2 || h[0].State != console.StateBackingOff || h[0].Reason != "429s" || h[1].State != console.StateCollecting {
		t.Errorf("history (newest first): %+v", h)
	}
	if got := s.perMinute("nobody", now); len(got) != 60 {
		t.Errorf("unknown integration: %d minutes", len(got))
	}
	// Samples older than a day and an hour go.
	s.observe(now.Add(26*time.Hour), []server.IntegrationView{view("a", "degraded", 2000, 61, 4, "429s")})
	if n := len(s.tracks["a"].samples); n != 1 {
		t.Errorf("%d samples kept after a day", n)
	}
}

// TestUserErr: the API's errors keep their message, fix and field (mapped to the form's field);
// a 404 is ErrNotFound; anything else passes through.
func TestUserErr(t *testing.T) {
	err := userErr(server.Fail(http.StatusBadRequest, server.CodeInvalidField, "orgUrl: not https", "use https", "orgUrl"))
	var ce *console.Error
	if !errors.As(err, &ce) || ce.Message != "orgUrl: not https" || ce.Fix != "use https" || ce.Field != "org_url" {
		t.Errorf("400: %#v", err)
	}
	if err := userErr(server.Fail(http.StatusNotFound, server.CodeNotFound, "no integration named x", "", "")); !errors.Is(err, console.ErrNotFound) {
		t.Errorf("404: %v", err)
	}
	other := errors.New("disk on fire")
	if err := userErr(other); err != other {
		t.Errorf("internal error: %v", err)
	}
}

// TestVerifyCheck: statuses map to the checklist's words, failures block, and the features a
// warning turns off are named.
func TestVerifyCheck(t *testing.T) {
	c := verifyCheck(collect.Check{Name: "Credentials", Status: collect.CheckFail, Detail: "invalid token", Fix: "create a token", FeaturesOff: []string{collect.FeatureLogs}})
	if c.Status != "fail" || !c.Blocking || c.Fix != "create a token" || c.Detail != "invalid token" {
		t.Errorf("fail: %+v", c)
	}
	w := verifyCheck(collect.Check{Name: "Admin roles", Status: collect.CheckWarn, Detail: "no custom role", FeaturesOff: []string{collect.FeatureResponse}})
	if w.Status != "warn" || w.Blocking || w.Detail != "no custom role (turns off: response actions)" {
		t.Errorf("warn: %+v", w)
	}
	if p := verifyCheck(collect.Check{Name: "Org URL", Status: collect.CheckOK}); p.Status != "pass" || p.Blocking {
		t.Errorf("ok: %+v", p)
	}
}
