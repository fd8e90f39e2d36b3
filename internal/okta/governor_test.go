package okta

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
)

func TestGovernorShareUnderConcurrentCallers(t *testing.T) {
	clk := clock.NewManual(t0)
	f := newFakeOkta(t, clk)
	f.limits[BucketLogs] = 20 // share 0.5 → at most 10 of ours per window
	c := newTestClient(t, f, nil)
	u, _ := c.LogsURL(LogsQuery{})
	const callers, each = 6, 5
	errs := drive(t, clk, func() []error {
		var wg sync.WaitGroup
		out := make([]error, callers*each)
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range each {
					_, out[i*each+j] = c.Logs(context.Background(), u)
				}
			}()
		}
		wg.Wait()
		return out
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	counts := f.countsPerWindow(BucketLogs)
	total := 0
	for i, n := range counts {
		if n > 10 {
			t.Errorf("window %d admitted %d of our requests, more than 50%% of 20", i, n)
		}
		total += n
	}
	if total != callers*each || f.n429 != 0 {
		t.Errorf("total=%d 429s=%d, want %d and 0", total, f.n429, callers*each)
	}
	if len(counts) < 3 {
		t.Errorf("windows used = %d, want ≥ 3 for 30 requests at 10 per window", len(counts))
	}
	st := c.Governor().Stats()
	var logs BucketStats
	for _, b := range st.Buckets {
		if b.Key == BucketLogs {
			logs = b
		}
	}
	if logs.Requests != callers*each || logs.Limit != 20 || logs.Cap != 10 || logs.ShareUsed > 0.5 || logs.Waits == 0 {
		t.Errorf("stats = %+v", logs)
	}
}

func TestGovernorRespectsRemainingLeftByOthers(t *testing.T) {
	clk, f, c := fixture(t)
	u, _ := c.LogsURL(LogsQuery{})
	f.external(BucketLogs, 117) // other tools left 3 of 120
	errs := drive(t, clk, func() []error {
		var out []error
		for range 8 {
			_, err := c.Logs(context.Background(), u)
			out = append(out, err)
		}
		return out
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if f.n429 != 0 {
		t.Errorf("429s = %d, want none: the governor must stop at the server's remaining count", f.n429)
	}
	if got := f.countsPerWindow(BucketLogs); got[0] != 3 {
		t.Errorf("first window admitted %d of ours, want 3", got[0])
	}
}

func Test429WaitUsesServerDate(t *testing.T) {
	for _, skew := range []time.Duration{5 * time.Minute, -5 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			clk := clock.NewManual(t0)
			f := newFakeOkta(t, clk)
			f.skew = skew
			c := newTestClient(t, f, nil)
			u, _ := c.LogsURL(LogsQuery{})
			f.external(BucketLogs, 120) // exhausted by someone else: our first request gets 429
			start := clk.Now()
			if err := drive(t, clk, func() error { _, err := c.Logs(context.Background(), u); return err }); err != nil {
				t.Fatal(err)
			}
			waited := clk.Now().Sub(start)
			if f.n429 != 1 {
				t.Errorf("429s = %d, want exactly 1 (the wait must cover the server's window)", f.n429)
			}
			if waited < 60*time.Second || waited > 62*time.Second {
				t.Errorf("waited %v, want reset − Date ≈ 61s whatever the local clock says", waited)
			}
		})
	}
}

func TestConcurrency429BacksOff(t *testing.T) {
	clk := clock.NewManual(t0)
	f := newFakeOkta(t, clk)
	f.conc429 = 2
	c := newTestClient(t, f, nil)
	u, _ := c.LogsURL(LogsQuery{})
	start := clk.Now()
	err := drive(t, clk, func() error { _, err := c.Logs(context.Background(), u); return err })
	if err != nil {
		t.Fatal(err)
	}
	if f.n429 != 2 {
		t.Errorf("429s = %d", f.n429)
	}
	if clk.Now().Sub(start) < 2*time.Second {
		t.Errorf("backed off only %v after two concurrency 429s", clk.Now().Sub(start))
	}
	st := c.Governor().Stats()
	for _, b := range st.Buckets {
		if b.Key == BucketLogs && (b.ConcurrencyLimited != 2 || b.Limit != 120) {
			t.Errorf("stats = %+v: a concurrency 429 must not overwrite the learned limit", b)
		}
	}
}

func TestRateLimitWaitsAreCapped(t *testing.T) {
	clk := clock.NewManual(t0)
	f := newFakeOkta(t, clk)
	f.conc429 = 1000
	c := newTestClient(t, f, func(cfg *Config) { cfg.Retry.MaxRateLimitWaits = 3 })
	u, _ := c.LogsURL(LogsQuery{})
	err := drive(t, clk, func() error { _, err := c.Logs(context.Background(), u); return err })
	if !errors.Is(err, KindRateLimited) {
		t.Fatalf("err = %v, want rate limited", err)
	}
	if f.n429 != 4 {
		t.Errorf("429s = %d, want 4 (first + 3 waits)", f.n429)
	}
}

// learn teaches a governor's bucket its limit with one request.
func learn(t *testing.T, g *Governor, key string, limit, remaining int, reset time.Time, date time.Time) {
	t.Helper()
	r, err := g.Acquire(context.Background(), LaneLogs, key)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("Date", date.UTC().Format(http.TimeFormat))
	r.Done(200, h)
}

func TestGovernorLanesPriority(t *testing.T) {
	clk := clock.NewManual(t0)
	g, err := NewGovernor(GovernorConfig{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	learn(t, g, BucketUsers, 10, 9, t0.Add(time.Minute), t0) // cap 5; 1 spent
	for range 4 {
		r, err := g.Acquire(context.Background(), LaneInventory, BucketUsers)
		if err != nil {
			t.Fatal(err)
		}
		r.Done(0, nil)
	}
	// Budget exhausted for this window. Queue lower lanes first, then higher ones.
	granted := make(chan Lane, 6)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, l := range []Lane{LaneBackfill, LaneBackfill, LaneInventory, LaneLogs, LaneResponse, LaneResponse} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := g.Acquire(ctx, l, BucketUsers)
			if err != nil {
				return
			}
			granted <- l
			r.Done(0, nil)
		}()
	}
	if err := clk.WaitForTimers(ctx, 6); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute) // new window: 5 slots for 6 waiters
	got := map[Lane]int{}
	for range 5 {
		select {
		case l := <-granted:
			got[l]++
		case <-time.After(10 * time.Second):
			t.Fatal("grants did not arrive")
		}
	}
	if got[LaneResponse] != 2 || got[LaneLogs] != 1 || got[LaneInventory] != 1 || got[LaneBackfill] != 1 {
		t.Errorf("granted %v, want both response, logs, inventory and one backfill", got)
	}
	st := g.Stats()
	if st.Buckets[0].Waiting != 1 {
		t.Errorf("waiting = %d, want the second backfill request still queued", st.Buckets[0].Waiting)
	}
	cancel()
	wg.Wait()
}

func TestGovernorBackfillLaneShare(t *testing.T) {
	clk := clock.NewManual(t0)
	g, err := NewGovernor(GovernorConfig{Clock: clk, LaneShares: map[Lane]float64{LaneBackfill: 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	learn(t, g, BucketLogs, 20, 19, t0.Add(time.Minute), t0) // backfill: 4 per window
	n := 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			r, err := g.Acquire(ctx, LaneBackfill, BucketLogs)
			if err != nil {
				return
			}
			n++
			r.Done(0, nil)
		}
	}()
	if err := clk.WaitForTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if n != 4 {
		t.Errorf("backfill got %d requests in the window, want 4 (20%% of 20)", n)
	}
}

func TestGovernorConfigValidate(t *testing.T) {
	for _, c := range []GovernorConfig{{Share: 1.5}, {Share: -0.1}, {LaneShares: map[Lane]float64{LaneBackfill: 0}}, {LaneShares: map[Lane]float64{9: 0.1}}, {MaxInFlight: -1}} {
		if _, err := NewGovernor(c); err == nil {
			t.Errorf("%+v: want error", c)
		}
	}
}

func TestGovernorSetSharesPerOrg(t *testing.T) {
	s, err := NewGovernorSet(GovernorConfig{Share: 0.4})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := ParseOrgURL("https://acme.okta.com")
	a2, _ := ParseOrgURL("https://ACME.okta.com/")
	b, _ := ParseOrgURL("https://other.okta.com")
	if s.For(a) != s.For(a2) || s.For(a) == s.For(b) || s.For(a).Stats().Share != 0.4 {
		t.Error("one governor per org expected")
	}
	if _, err := NewGovernorSet(GovernorConfig{Share: 2}); err == nil {
		t.Error("invalid config accepted")
	}
}

// TestGovernorCountsAnswersByClass: every answer is counted by its status class, and a request
// that got none as an error.
func TestGovernorCountsAnswersByClass(t *testing.T) {
	g, err := NewGovernor(GovernorConfig{Clock: clock.NewManual(t0)})
	if err != nil {
		t.Fatal(err)
	}
	for _, status := range []int{200, 200, 404, 503, 0} {
		r, err := g.Acquire(context.Background(), LaneLogs, BucketLogs)
		if err != nil {
			t.Fatal(err)
		}
		var h http.Header
		if status != 0 {
			h = http.Header{}
		}
		r.Done(status, h)
	}
	var got [6]int64
	for _, b := range g.Stats().Buckets {
		for i, n := range b.ByStatus {
			got[i] += n
		}
	}
	if got != [6]int64{1, 0, 2, 0, 1, 1} {
		t.Fatalf("answers by class %v", got)
	}
}
