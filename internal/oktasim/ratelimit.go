package oktasim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// BucketLimit is one rate-limit bucket: the requests it covers and its quota per minute.
type BucketLimit struct {
	Name string `json:"name"`
	// Method restricts the bucket to one HTTP method; empty means any.
	Method string `json:"method,omitempty"`
	// Path is an exact path, a path with {name} wildcard segments, or a prefix ending in "*".
	Path      string `json:"path"`
	PerMinute int    `json:"perMinute"`
}

// RateLimitConfig configures Okta's rate limits. Buckets are tried in order; the first match
// applies, so list specific paths before prefixes.
type RateLimitConfig struct {
	// Disabled turns limiting off (benchmarks); headers still report the configured quotas.
	Disabled bool          `json:"disabled"`
	Buckets  []BucketLimit `json:"buckets"`
	// Concurrency is the number of requests that may be in flight at once.
	Concurrency int `json:"concurrency"`
	// SharePercent is the share of each bucket one token or app may use (Okta's default is 50).
	SharePercent int `json:"sharePercent"`
}

// DefaultRateLimits returns a Workforce org's defaults, from Okta's last published table.
func DefaultRateLimits() RateLimitConfig {
	return RateLimitConfig{
		Buckets: []BucketLimit{
			{Name: "logs", Path: "/api/v1/logs", PerMinute: 120},
			{Name: "events", Path: "/api/v1/events", PerMinute: 100},
			{Name: "users-list", Path: "/api/v1/users", PerMinute: 600},
			{Name: "user-get", Method: http.MethodGet, Path: "/api/v1/users/{id}", PerMinute: 2000},
			{Name: "users", Path: "/api/v1/users/*", PerMinute: 600},
			{Name: "groups-list", Path: "/api/v1/groups", PerMinute: 500},
			{Name: "group", Path: "/api/v1/groups/{id}", PerMinute: 1000},
			{Name: "app", Path: "/api/v1/apps/{id}", PerMinute: 500},
			{Name: "apps", Path: "/api/v1/apps*", PerMinute: 100},
			{Name: "api", Path: "/api/v1/*", PerMinute: 1200},
		},
		Concurrency:  75,
		SharePercent: 50,
	}
}

// Validate checks the configuration.
func (c RateLimitConfig) Validate() error {
	if c.Concurrency < 1 {
		return fmt.Errorf("rate limits: concurrency must be at least 1, got %d", c.Concurrency)
	}
	if c.SharePercent < 1 || c.SharePercent > 100 {
		return fmt.Errorf("rate limits: sharePercent must be 1..100, got %d", c.SharePercent)
	}
	for i, b := range c.Buckets {
		if b.Name == "" {
			return fmt.Errorf("rate limits: bucket %d has no name", i)
		}
		if !strings.HasPrefix(b.Path, "/") {
			return fmt.Errorf("rate limits: bucket %q path %q must start with /", b.Name, b.Path)
		}
		if b.PerMinute < 1 {
			return fmt.Errorf("rate limits: bucket %q perMinute must be at least 1, got %d", b.Name, b.PerMinute)
		}
	}
	return nil
}

func (b BucketLimit) matches(method, path string) bool {
	if b.Method != "" && !strings.EqualFold(b.Method, method) {
		return false
	}
	if prefix, ok := strings.CutSuffix(b.Path, "*"); ok {
		return strings.HasPrefix(path, prefix)
	}
	if !strings.Contains(b.Path, "{") {
		return path == b.Path
	}
	want, got := strings.Split(b.Path, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if strings.HasPrefix(want[i], "{") {
			if got[i] == "" {
				return false
			}
		} else if want[i] != got[i] {
			return false
		}
	}
	return true
}

// rateWindow counts requests in a rolling minute that starts at the first request after the
// previous window ended (Okta's windows are not aligned to the clock).
type rateWindow struct {
	start            time.Time
	count            int
	warned, violated bool // the window's System Log events were written
}

func (w *rateWindow) roll(now time.Time) {
	if w.start.IsZero() || !now.Before(w.start.Add(time.Minute)) {
		*w = rateWindow{start: now}
	}
}

func (w *rateWindow) reset() time.Time { return w.start.Add(time.Minute) }

// rateDecision is the outcome of metering one request and the headers that report it.
type rateDecision struct {
	allowed   bool
	limit     int
	remaining int
	reset     time.Time
	// event is the System Log event type this request triggers, if any: the org's use of the
	// bucket crossed the warning threshold, or the bucket was exceeded, for the first time in
	// the window.
	event string
}

// rateWarningPercent is Okta's default threshold for the rate-limit warning event.
const rateWarningPercent = 60

func (d rateDecision) setHeaders(h http.Header) {
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(d.limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(max(d.remaining, 0)))
	// Round up so a client that waits until Reset never arrives before the window ends.
	sec := d.reset.Unix()
	if d.reset.Nanosecond() > 0 {
		sec++
	}
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(sec, 10))
}

// rateLimiter applies RateLimitConfig. It is safe for concurrent use.
type rateLimiter struct {
	mu       sync.Mutex
	cfg      RateLimitConfig
	org      map[string]*rateWindow // by bucket
	shares   map[string]*rateWindow // by bucket + share key
	inflight int

	lastConcurrencyEvent time.Time
}

func newRateLimiter(cfg RateLimitConfig) *rateLimiter {
	return &rateLimiter{cfg: cfg, org: map[string]*rateWindow{}, shares: map[string]*rateWindow{}}
}

// config returns the current configuration.
func (l *rateLimiter) config() RateLimitConfig {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.cfg
	c.Buckets = append([]BucketLimit(nil), c.Buckets...)
	return c
}

// setConfig replaces the configuration and starts every window afresh.
func (l *rateLimiter) setConfig(cfg RateLimitConfig) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg, l.org, l.shares = cfg, map[string]*rateWindow{}, map[string]*rateWindow{}
}

// bucket returns the bucket for a request, or ok=false if none applies.
func (l *rateLimiter) bucket(method, path string) (BucketLimit, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.cfg.Buckets {
		if b.matches(method, path) {
			return b, true
		}
	}
	return BucketLimit{}, false
}

func (l *rateLimiter) windows(b BucketLimit, shareKey string, now time.Time) (org, share *rateWindow) {
	org = l.org[b.Name]
	if org == nil {
		org = &rateWindow{}
		l.org[b.Name] = org
	}
	key := b.Name + "\x00" + shareKey
	share = l.shares[key]
	if share == nil {
		share = &rateWindow{}
		l.shares[key] = share
	}
	org.roll(now)
	share.roll(now)
	return org, share
}

// take meters one request of the principal identified by shareKey. The headers describe what the
// principal may still do: its share of the bucket, further bounded by what the org has left.
// With count false the request is only observed (refused before it counted, e.g. unauthenticated).
func (l *rateLimiter) take(b BucketLimit, shareKey string, now time.Time, count bool) rateDecision {
	l.mu.Lock()
	defer l.mu.Unlock()
	shareLimit := max(1, b.PerMinute*l.cfg.SharePercent/100)
	if l.cfg.Disabled {
		return rateDecision{allowed: true, limit: shareLimit, remaining: shareLimit, reset: now.Add(time.Minute)}
	}
	org, share := l.windows(b, shareKey, now)
	orgLeft, shareLeft := b.PerMinute-org.count, shareLimit-share.count
	d := rateDecision{limit: shareLimit, remaining: shareLeft, reset: share.reset()}
	if orgLeft < shareLeft {
		d.remaining, d.reset = orgLeft, org.reset()
	}
	if d.remaining <= 0 {
		if orgLeft <= 0 && org.reset().After(d.reset) {
			d.reset = org.reset()
		}
		if orgLeft <= 0 && count && !org.violated {
			org.violated, d.event = true, "system.org.rate_limit.violation"
		}
		return d
	}
	d.allowed = true
	if count {
		org.count++
		share.count++
		d.remaining--
		if !org.warned && org.count*100 >= b.PerMinute*rateWarningPercent {
			org.warned, d.event = true, "system.org.rate_limit.warning"
		}
	}
	return d
}

// enter claims a concurrency slot; ok is false when the org is at its concurrency limit. logIt
// is true for the first refusal in a minute, which Okta records in the System Log.
func (l *rateLimiter) enter(now time.Time) (ok, logIt bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.cfg.Disabled && l.inflight >= l.cfg.Concurrency {
		if l.lastConcurrencyEvent.IsZero() || now.Sub(l.lastConcurrencyEvent) >= time.Minute {
			l.lastConcurrencyEvent = now
			return false, true
		}
		return false, false
	}
	l.inflight++
	return true, false
}

// leave releases a slot claimed by enter.
func (l *rateLimiter) leave() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
}

// concurrencyRefusal is the decision for a request refused by the concurrency limit: Okta sends
// 0/0 and an estimate of when a slot frees.
func concurrencyRefusal(now time.Time) rateDecision {
	return rateDecision{limit: 0, remaining: 0, reset: now.Add(time.Second)}
}
