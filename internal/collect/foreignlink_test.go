package collect

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim/fault"
	"github.com/idwatch/idwatch/internal/store"
)

// TestForeignNextLinkBacksOff makes the org answer every System Log page with a next link to
// another origin, through oktasim's fault injector, while the poller runs for ten minutes of
// (manual) clock time: the link is never followed, requests back off instead of spinning through
// the rate budget, the health record says why and how to fix it, and once the answers are right
// again every event is collected.
func TestForeignNextLinkBacksOff(t *testing.T) {
	var leaked atomic.Int64
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Add(1)
		w.WriteHeader(http.StatusTeapot)
	}))
	defer foreign.Close()

	e, p, hl := faultEnv(t, 0, nil)
	e.sim.add(t, 120, 0, 0, nil)
	e.sim.clock.Advance(time.Second)
	if err := p.CatchUp(context.Background(), 0); err != nil { // clean pages first: a stored cursor
		t.Fatal(err)
	}
	e.sim.add(t, 120, 0, 0, nil)
	e.sim.clock.Advance(time.Second)
	rule, err := e.sim.srv.Faults().Add(fault.Rule{Kind: fault.KindForeignLink, Path: "/api/v1/logs", Origin: foreign.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := len(e.sim.requests("/api/v1/logs"))
	start := e.sim.clock.Now()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	// Drive the clock from timer to timer for ten minutes; a poller that never sleeps leaves no
	// timer, and the wall-clock deadline ends the wait.
	const interval = 10 * time.Minute
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	for e.sim.clock.Now().Sub(start) < interval {
		if err := e.sim.clock.WaitForTimers(wctx, 1); err != nil {
			break
		}
		if d, ok := e.sim.clock.NextTimer(); ok {
			e.sim.clock.Advance(max(d, time.Millisecond))
		}
	}
	cancel()
	<-done
	requests := len(e.sim.requests("/api/v1/logs")) - before
	elapsed := e.sim.clock.Now().Sub(start)
	t.Logf("%d System Log requests in %s of clock time", requests, elapsed)
	// Backoff from 2s doubling to 5m allows 9 attempts in 10 minutes.
	if requests > 12 || requests == 0 {
		t.Fatalf("%d System Log requests in %s of clock time with a foreign next link; want at most 12 (backoff)", requests, elapsed)
	}
	if elapsed < interval {
		t.Fatalf("only %s of clock time passed (%d requests)", elapsed, requests)
	}
	if n := leaked.Load(); n != 0 {
		t.Fatalf("%d requests reached the foreign origin", n)
	}
	if !hl.saw(store.HealthError, "next link was refused") || !hl.saw(store.HealthError, "proxy") {
		t.Fatalf("no error health naming the refused link and the fix:\n%s", hl)
	}
	cur, err := e.st.Cursor(context.Background(), e.in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := url.Parse(cur.Next); err != nil || strings.Contains(cur.Next, strings.TrimPrefix(foreign.URL, "http://")) || u.Path != "/api/v1/logs" {
		t.Fatalf("stored cursor %q", cur.Next)
	}

	// The answers are right again: collection resumes and nothing was lost.
	if !e.sim.srv.Faults().Remove(rule.ID) {
		t.Fatal("fault rule not removed")
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go drive(ctx2, e.sim.clock)
	if err := p.CatchUp(ctx2, 3); err != nil {
		t.Fatal(err)
	}
	assertTruth(t, e.sim, e.st)
	if h := e.health(t); h.State != store.HealthCollecting {
		t.Fatalf("health after recovery %+v", h)
	}
	if n := leaked.Load(); n != 0 {
		t.Fatalf("%d requests reached the foreign origin", n)
	}
}

// refusingSource refuses every System Log query as Okta does a bad cursor.
type refusingSource struct{ calls int }

func (r *refusingSource) LogsURL(q okta.LogsQuery) (string, error) {
	return "https://acme.okta.com/api/v1/logs?since=" + q.Since.UTC().Format(time.RFC3339), nil
}

func (r *refusingSource) Logs(context.Context, string) (*okta.Page, error) {
	r.calls++
	return nil, &okta.APIError{Kind: okta.KindValidation, Status: 400, Code: "E0000001", Method: "GET", Path: "/api/v1/logs"}
}

// TestRefusedRestartBacksOff checks that a cursor refused again right after a restart is
// reported as a failure (so Run backs off) instead of being restarted at once, for ever.
func TestRefusedRestartBacksOff(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "idwatch.db"), newKeyring(t))
	src := &refusingSource{}
	p, err := NewPoller(1, src, st, nil, Config{Clock: clock.NewManual(t0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Step(t.Context()); err != nil {
		t.Fatalf("first refusal: %v; want a restart", err)
	}
	if _, err := p.Step(t.Context()); err == nil || !errors.Is(err, okta.KindValidation) {
		t.Fatalf("refusal after the restart: %v; want the error, so that the caller backs off", err)
	}
	if src.calls != 2 {
		t.Fatalf("%d requests, want 2", src.calls)
	}
}
