package okta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
)

// GovernorConfig configures a Governor.
type GovernorConfig struct {
	// Share is the largest fraction of any bucket's limit this process spends per window
	// (0 < Share <= 1; default 0.5, Okta's own default per token or app).
	Share float64
	// LaneShares caps individual lanes below Share (each in (0, Share]). Unset lanes get the
	// defaults: response and logs Share, inventory 0.8×Share, backfill 0.5×Share, so that the
	// lower lanes always leave headroom for the higher ones.
	LaneShares map[Lane]float64
	// MaxInFlight caps concurrent requests to the org across all buckets (default 10; Okta's
	// concurrency limit is 75 per org and shared with every other client).
	MaxInFlight int
	// ConcurrencyBackoff is the first wait after a concurrency 429 (default 1s), doubled per
	// consecutive one up to MaxConcurrencyBackoff (default 30s).
	ConcurrencyBackoff    time.Duration
	MaxConcurrencyBackoff time.Duration
	// Clock defaults to the system clock.
	Clock clock.Clock
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Validate checks the configuration.
func (c GovernorConfig) Validate() error {
	if c.Share < 0 || c.Share > 1 || math.IsNaN(c.Share) {
		return fmt.Errorf("rate governor: share %v must be between 0 and 1 (e.g. 0.5 for 50%%)", c.Share)
	}
	for l, s := range c.LaneShares {
		if l < 0 || l >= numLanes {
			return fmt.Errorf("rate governor: unknown lane %d", l)
		}
		if s <= 0 || s > 1 || math.IsNaN(s) {
			return fmt.Errorf("rate governor: %s lane share %v must be between 0 and 1", l, s)
		}
	}
	if c.MaxInFlight < 0 {
		return errors.New("rate governor: max in-flight must not be negative")
	}
	return nil
}

// carry is how far before a window's estimated end a request still counts towards the next window:
// the estimate can be late by the Date header's one-second resolution plus network latency.
const carry = 2 * time.Second

// fallbackWindow is assumed when a bucket's reset is not known (Okta's windows are a minute).
const fallbackWindow = time.Minute

// Governor paces every request to one Okta org. It learns each bucket's limit from the
// X-Rate-Limit-* headers and reserves a slot before a request is sent, so that concurrent callers
// together never spend more than the configured share of a bucket per window. Create one per org
// and share it between every client of that org.
type Governor struct {
	cfg   GovernorConfig
	clock clock.Clock
	log   *slog.Logger

	mu       sync.Mutex
	buckets  map[string]*bucket
	inFlight int
	seq      uint64
	lanes    [numLanes]LaneStats
}

// NewGovernor returns a Governor; the zero config gives the defaults.
func NewGovernor(cfg GovernorConfig) (*Governor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Share == 0 {
		cfg.Share = 0.5
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = 10
	}
	if cfg.ConcurrencyBackoff <= 0 {
		cfg.ConcurrencyBackoff = time.Second
	}
	if cfg.MaxConcurrencyBackoff <= 0 {
		cfg.MaxConcurrencyBackoff = 30 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	defaults := [numLanes]float64{1, 1, 0.8, 0.5}
	shares := map[Lane]float64{}
	for l := Lane(0); l < numLanes; l++ {
		s, ok := cfg.LaneShares[l]
		if !ok {
			s = defaults[l] * cfg.Share
		}
		shares[l] = min(s, cfg.Share)
	}
	cfg.LaneShares = shares
	g := &Governor{cfg: cfg, clock: cfg.Clock, log: cfg.Logger, buckets: map[string]*bucket{}}
	for l := range g.lanes {
		g.lanes[l].Lane = Lane(l)
	}
	return g, nil
}

// entry is one reserved request. The server counts it when it arrives, somewhere between the
// reservation (at) and the response (done), so it counts against every window that interval
// touches.
type entry struct {
	at   time.Time
	done time.Time
	lane Lane
	live bool
}

type waiter struct {
	lane  Lane
	seq   uint64
	ready chan struct{}
	res   *Reservation
}

type bucket struct {
	key         string
	limit       int // learned X-Rate-Limit-Limit; 0 until known
	remaining   int // lowest X-Rate-Limit-Remaining seen in the current window; -1 unknown
	windowID    int64
	windowStart time.Time // local; reservations from here on count against the current window
	windowEnd   time.Time // local estimate of the server's reset; zero when not known
	rolled      bool      // the window windowID names has ended locally; its late responses are stale
	blocked     time.Time // no request before this (after a 429)
	conc429     int
	entries     []*entry
	waiters     []*waiter
	stats       BucketStats
}

// Reservation is one granted request slot. Call Done with the response (or nil on a transport
// error) exactly once; Cancel instead when the request was never sent.
type Reservation struct {
	g     *Governor
	b     *bucket
	e     *entry
	ended bool
}

// Acquire waits until the bucket has room for one request in lane and reserves it.
func (g *Governor) Acquire(ctx context.Context, lane Lane, bucketKey string) (*Reservation, error) {
	if lane < 0 || lane >= numLanes {
		lane = LaneInventory
	}
	g.mu.Lock()
	start := g.clock.Now()
	b := g.bucketLocked(bucketKey)
	g.seq++
	w := &waiter{lane: lane, seq: g.seq, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	sort.SliceStable(b.waiters, func(i, j int) bool {
		if b.waiters[i].lane != b.waiters[j].lane {
			return b.waiters[i].lane < b.waiters[j].lane
		}
		return b.waiters[i].seq < b.waiters[j].seq
	})
	g.dispatchLocked(start)
	waited := false
	for w.res == nil {
		waited = true
		wake := b.nextWake(g.clock.Now())
		g.mu.Unlock()
		var timer clock.Timer
		var fire <-chan time.Time
		if !wake.IsZero() {
			timer = g.clock.NewTimer(wake.Sub(g.clock.Now()))
			fire = timer.C()
		}
		var err error
		select {
		case <-w.ready:
		case <-fire:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if timer != nil {
			timer.Stop()
		}
		g.mu.Lock()
		if err != nil && w.res == nil {
			b.removeWaiter(w)
			g.dispatchLocked(g.clock.Now())
			g.mu.Unlock()
			return nil, err
		}
		g.dispatchLocked(g.clock.Now())
	}
	if waited {
		d := g.clock.Now().Sub(start)
		b.stats.Waits++
		b.stats.WaitTime += d
		g.lanes[lane].Waits++
		g.lanes[lane].WaitTime += d
	}
	g.mu.Unlock()
	return w.res, nil
}

func (g *Governor) bucketLocked(key string) *bucket {
	b := g.buckets[key]
	if b == nil {
		b = &bucket{key: key, remaining: -1}
		b.stats.Key = key
		g.buckets[key] = b
	}
	return b
}

// dispatchLocked grants waiting requests in priority order wherever there is room.
func (g *Governor) dispatchLocked(now time.Time) {
	keys := make([]string, 0, len(g.buckets))
	for k := range g.buckets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b := g.buckets[k]
		b.roll(now)
		for i := 0; i < len(b.waiters); {
			if g.inFlight >= g.cfg.MaxInFlight || !b.open(now, g.cfg.Share) {
				break
			}
			w := b.waiters[i]
			if !g.laneOpen(b, w.lane) {
				i++
				continue
			}
			b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
			e := &entry{at: now, lane: w.lane, live: true}
			b.entries = append(b.entries, e)
			g.inFlight++
			b.stats.Requests++
			g.lanes[w.lane].Requests++
			w.res = &Reservation{g: g, b: b, e: e}
			close(w.ready)
		}
	}
}

// cap is the number of requests a share allows per window (at least one, so tiny buckets work).
func shareCap(share float64, limit int) int {
	return max(1, int(math.Floor(share*float64(limit)+1e-9)))
}

func (g *Governor) laneOpen(b *bucket, l Lane) bool {
	if b.limit == 0 {
		return true
	}
	return b.spent(l) < shareCap(g.cfg.LaneShares[l], b.limit)
}

// open reports whether the bucket as a whole may send one more request now.
func (b *bucket) open(now time.Time, share float64) bool {
	if now.Before(b.blocked) {
		return false
	}
	if b.limit == 0 { // not learned yet: probe with one request at a time
		return b.live() == 0
	}
	if b.remaining >= 0 && b.remaining-b.live() <= 0 {
		return false
	}
	return b.spent(-1) < shareCap(share, b.limit)
}

// roll starts a new accounting window once the current one has ended.
func (b *bucket) roll(now time.Time) {
	end := b.windowEnd
	if end.IsZero() && b.limit > 0 && !b.windowStart.IsZero() && b.live() == 0 {
		end = b.windowStart.Add(carry + fallbackWindow)
	}
	if !end.IsZero() && !now.Before(end) {
		b.windowStart = maxTime(b.windowStart, end.Add(-carry))
		b.windowEnd = time.Time{}
		b.remaining = -1
		b.rolled = true
	}
	// windowStart never moves back, so finished entries before it can never count again.
	cut := maxTime(b.windowStart, now.Add(-3*fallbackWindow))
	kept := b.entries[:0]
	for _, e := range b.entries {
		if e.live || !e.done.Before(cut) {
			kept = append(kept, e)
		}
	}
	clear(b.entries[len(kept):])
	b.entries = kept
}

// spent counts this process's requests in the current window, for one lane or all (l < 0).
func (b *bucket) spent(l Lane) int {
	n := 0
	for _, e := range b.entries {
		if (l < 0 || e.lane == l) && (e.live || !e.done.Before(b.windowStart)) {
			n++
		}
	}
	return n
}

func (b *bucket) live() int {
	n := 0
	for _, e := range b.entries {
		if e.live {
			n++
		}
	}
	return n
}

// nextWake is when a blocked bucket may open by the passing of time (zero: only a response can open it).
func (b *bucket) nextWake(now time.Time) time.Time {
	var t time.Time
	if now.Before(b.blocked) {
		t = b.blocked
	}
	end := b.windowEnd
	if end.IsZero() && b.limit > 0 && !b.windowStart.IsZero() {
		end = b.windowStart.Add(carry + fallbackWindow)
	}
	if end.After(now) && (t.IsZero() || end.Before(t)) && !now.Before(b.blocked) {
		t = end
	}
	return t
}

func (b *bucket) removeWaiter(w *waiter) {
	for i, x := range b.waiters {
		if x == w {
			b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
			return
		}
	}
}

// Cancel returns the slot of a request that was never sent.
func (r *Reservation) Cancel() {
	r.g.mu.Lock()
	defer r.g.mu.Unlock()
	if r.ended {
		return
	}
	r.ended = true
	r.g.inFlight--
	r.b.stats.Requests--
	r.g.lanes[r.e.lane].Requests--
	for i, e := range r.b.entries {
		if e == r.e {
			r.b.entries = append(r.b.entries[:i], r.b.entries[i+1:]...)
			break
		}
	}
	r.g.dispatchLocked(r.g.clock.Now())
}

// Done records the response to a reserved request: the rate-limit headers teach the bucket its
// limit, remaining budget and reset; a 429 blocks the bucket until the reset the server computes.
// Pass status 0 and nil headers when the request failed in transport; the slot stays spent.
// It returns how long the bucket is blocked when the response was a 429.
func (r *Reservation) Done(status int, h http.Header) time.Duration {
	g := r.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.ended {
		return 0
	}
	r.ended = true
	r.e.live = false
	g.inFlight--
	now := g.clock.Now()
	r.e.done = now
	if c := status / 100; h != nil && c >= 1 && c <= 5 {
		r.b.stats.ByStatus[c]++
	} else {
		r.b.stats.ByStatus[0]++
	}
	var wait time.Duration
	if h != nil {
		wait = r.b.observe(g, r.e, status, h, now)
	}
	g.dispatchLocked(now)
	return wait
}

type rateHeaders struct {
	limit, remaining int
	reset            int64
	ok               bool
	untilReset       time.Duration // reset minus the server's Date: immune to local clock skew
	haveUntil        bool
}

func parseRateHeaders(h http.Header, now time.Time) rateHeaders {
	var rh rateHeaders
	l, e1 := strconv.Atoi(h.Get("X-Rate-Limit-Limit"))
	r, e2 := strconv.Atoi(h.Get("X-Rate-Limit-Remaining"))
	t, e3 := strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64)
	if e1 != nil || e2 != nil || e3 != nil || l < 0 || r < 0 || t <= 0 {
		return rh
	}
	rh.limit, rh.remaining, rh.reset, rh.ok = l, r, t, true
	reset := time.Unix(t, 0)
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		rh.untilReset, rh.haveUntil = reset.Sub(d), true
	} else {
		rh.untilReset = reset.Sub(now)
	}
	rh.untilReset = max(rh.untilReset, 0)
	return rh
}

func (b *bucket) observe(g *Governor, e *entry, status int, h http.Header, now time.Time) time.Duration {
	rh := parseRateHeaders(h, now)
	if status == http.StatusTooManyRequests {
		b.stats.RateLimited++
		if !rh.ok || (rh.limit == 0 && rh.remaining == 0) {
			// Concurrency limit (or a 429 without headers): back off exponentially; the reset
			// is only an estimate of when a slot frees up.
			b.stats.ConcurrencyLimited++
			b.conc429++
			d := g.cfg.ConcurrencyBackoff << min(b.conc429-1, 10)
			d = min(d, g.cfg.MaxConcurrencyBackoff)
			d = d/2 + rand.N(d/2+1)
			if rh.ok && rh.untilReset > d && rh.untilReset <= g.cfg.MaxConcurrencyBackoff {
				d = rh.untilReset
			}
			b.blocked = maxTime(b.blocked, now.Add(d))
			g.log.Warn("okta concurrency limit hit; backing off", "bucket", b.key, "wait", d)
			return d
		}
	} else {
		b.conc429 = 0
	}
	if !rh.ok {
		return 0
	}
	if rh.limit > 0 {
		b.limit = rh.limit
	}
	switch {
	case rh.reset > b.windowID:
		if b.windowID != 0 && !b.windowEnd.IsZero() {
			b.windowStart = maxTime(b.windowStart, minTime(b.windowEnd, e.at).Add(-carry))
		}
		b.windowID = rh.reset
		b.windowEnd = now.Add(rh.untilReset)
		b.remaining = rh.remaining
		b.rolled = false
	case rh.reset == b.windowID && !b.rolled:
		if b.remaining < 0 || rh.remaining < b.remaining {
			b.remaining = rh.remaining
		}
		if b.windowEnd.IsZero() {
			b.windowEnd = now.Add(rh.untilReset)
		}
	}
	if status != http.StatusTooManyRequests {
		return 0
	}
	// Wait out the window the server reports, measured against its own Date header so a skewed
	// local clock cannot shorten the wait; one extra second covers the Date header's resolution.
	b.remaining = 0
	wait := rh.untilReset + time.Second
	b.blocked = maxTime(b.blocked, now.Add(wait))
	g.log.Warn("okta rate limit hit; waiting for the bucket to reset", "bucket", b.key, "wait", wait)
	return wait
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// BucketStats describes one bucket for health reporting.
type BucketStats struct {
	Key string
	// Limit, Remaining and ResetAt are what Okta last reported (zero when not yet known).
	Limit     int
	Remaining int
	ResetAt   time.Time
	// Spent is this process's requests in the current window; Cap is the most it will send.
	Spent int
	Cap   int
	// ShareUsed is Spent / Limit.
	ShareUsed float64
	// Requests counts every request sent; RateLimited the 429s, of which ConcurrencyLimited
	// were concurrency 429s; Waits and WaitTime the requests that had to wait for room.
	Requests           int64
	RateLimited        int64
	ConcurrencyLimited int64
	// ByStatus counts the answers by HTTP status class: ByStatus[2] the 2xx, … ByStatus[5] the
	// 5xx; ByStatus[0] the requests that got no answer (a timeout, a reset connection).
	ByStatus [6]int64
	Waits    int64
	WaitTime time.Duration
	// BlockedUntil is set while a 429 holds the bucket.
	BlockedUntil time.Time
	// Waiting is the number of requests queued for room right now.
	Waiting int
}

// LaneStats describes one lane's traffic.
type LaneStats struct {
	Lane     Lane
	Requests int64
	Waits    int64
	WaitTime time.Duration
}

// GovernorStats is a snapshot of the governor for health reporting.
type GovernorStats struct {
	Share    float64
	InFlight int
	Buckets  []BucketStats
	Lanes    []LaneStats
}

// Stats returns a snapshot; buckets are sorted by key.
func (g *Governor) Stats() GovernorStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock.Now()
	st := GovernorStats{Share: g.cfg.Share, InFlight: g.inFlight, Lanes: append([]LaneStats(nil), g.lanes[:]...)}
	for _, b := range g.buckets {
		b.roll(now)
		s := b.stats
		s.Limit, s.Remaining, s.ResetAt = b.limit, max(b.remaining, 0), b.windowEnd
		s.Spent = b.spent(-1)
		if b.limit > 0 {
			s.Cap = shareCap(g.cfg.Share, b.limit)
			s.ShareUsed = float64(s.Spent) / float64(b.limit)
		}
		if now.Before(b.blocked) {
			s.BlockedUntil = b.blocked
		}
		s.Waiting = len(b.waiters)
		st.Buckets = append(st.Buckets, s)
	}
	sort.Slice(st.Buckets, func(i, j int) bool { return st.Buckets[i].Key < st.Buckets[j].Key })
	return st
}

// blockedUntil returns when a bucket's 429 block ends (zero when not blocked).
func (g *Governor) blockedUntil(key string) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	if b := g.buckets[key]; b != nil {
		return b.blocked
	}
	return time.Time{}
}
