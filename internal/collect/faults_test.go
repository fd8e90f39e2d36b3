package collect

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// fault is what the fault proxy does to one System Log request.
type fault int

const (
	faultNone      fault = iota
	fault503             // Okta outage: 503 with an error object
	faultHang            // no answer until the client gives up
	faultTruncate        // the real page cut in half
	faultMalformed       // a body that is not a JSON array
	fault429             // rate limited, reset 30 s ahead
)

// faultProxy sits in front of oktasim and applies queued faults to /api/v1/logs requests.
type faultProxy struct {
	mu    sync.Mutex
	queue []fault
	now   func() time.Time
	next  http.Handler
}

func (f *faultProxy) push(fs ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, fs...)
}

func (f *faultProxy) pop() fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queue) == 0 {
		return faultNone
	}
	x := f.queue[0]
	f.queue = f.queue[1:]
	return x
}

func (f *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/logs" {
		f.next.ServeHTTP(w, r)
		return
	}
	x := f.pop()
	switch x {
	case fault503:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"errorCode":"E0000009","errorSummary":"Internal Server Error","errorLink":"E0000009","errorId":"x","errorCauses":[]}`)
	case faultHang:
		<-r.Context().Done()
	case fault429:
		now := f.now()
		w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
		w.Header().Set("X-Rate-Limit-Limit", "60")
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(now.Add(30*time.Second).Unix(), 10))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorLink":"E0000047","errorId":"x","errorCauses":[]}`)
	case faultTruncate, faultMalformed:
		rec := httptest.NewRecorder()
		f.next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		body := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			if x == faultTruncate {
				body = body[:len(body)/2]
			} else {
				body = []byte(`{"not":"an array"}`)
			}
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(body)
	default:
		f.next.ServeHTTP(w, r)
	}
}

// healthLog records every health state written.
type healthLog struct {
	HealthWriter
	mu     sync.Mutex
	states []store.Health
}

func (h *healthLog) SetHealth(ctx context.Context, x store.Health) error {
	h.mu.Lock()
	h.states = append(h.states, x)
	h.mu.Unlock()
	return h.HealthWriter.SetHealth(ctx, x)
}

// saw reports whether a health record in state with reason containing text was written.
func (h *healthLog) saw(state store.HealthState, text string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, x := range h.states {
		if x.State == state && strings.Contains(x.Reason+" "+x.Fix, text) {
			return true
		}
	}
	return false
}

func (h *healthLog) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, x := range h.states {
		fmt.Fprintf(&b, "%s: %s | %s\n", x.State, x.Reason, x.Fix)
	}
	return b.String()
}

// faultEnv is an env whose org sits behind a fault proxy, with a poller whose health is recorded.
func faultEnv(t *testing.T, skew time.Duration, limits *oktasim.RateLimitConfig) (*env, *faultProxy, *Poller, *healthLog) {
	t.Helper()
	fp := &faultProxy{}
	o := simOptions{skew: skew, noLimit: limits == nil, wrap: func(h http.Handler) http.Handler { fp.next = h; return fp }}
	if limits != nil {
		o.cfg.RateLimits = *limits
	}
	s := newSim(t, o)
	fp.now = func() time.Time { return s.clock.Now().Add(skew) }
	e := newEnv(t, s, okta.GovernorConfig{Share: 0.5})
	hl := &healthLog{HealthWriter: e.st}
	p := e.pollerWith(t, Config{PageLimit: 50}, hl, okta.RetryConfig{MaxRetries: 1, AttemptTimeout: 300 * time.Millisecond,
		BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second})
	return e, fp, p, hl
}

// TestFaultsSurvived injects each fault the System Log can show while a backlog is collected:
// every one leaves a health record saying what happened, and the journal ends exact.
func TestFaultsSurvived(t *testing.T) {
	cases := []struct {
		name   string
		faults []fault
		state  store.HealthState
		reason string
	}{
		{"5xx", []fault{fault503, fault503, fault503}, store.HealthDegraded, "HTTP 503"},
		{"timeout", []fault{faultHang, faultHang}, store.HealthDegraded, "timed out"},
		{"truncated", []fault{faultTruncate}, store.HealthDegraded, "truncated or malformed"},
		{"malformed", []fault{faultMalformed, faultNone, faultMalformed}, store.HealthDegraded, "truncated or malformed"},
		{"429 storm", []fault{fault429, fault429, fault429, fault429, fault429, fault429, fault429, fault429, fault429, fault429, fault429, fault429}, store.HealthDegraded, "rate limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, fp, p, hl := faultEnv(t, 0, nil)
			e.sim.add(t, 300, 0, 0, nil)
			e.sim.clock.Advance(time.Second)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go drive(ctx, e.sim.clock)
			if err := p.CatchUp(ctx, 0); err != nil { // first pages clean
				t.Fatal(err)
			}
			e.sim.add(t, 300, 0.1, time.Minute, nil)
			fp.push(faultNone)
			fp.push(c.faults...)
			if err := p.CatchUp(ctx, 20); err != nil {
				t.Fatalf("not survived: %v\n%s", err, hl)
			}
			e.sim.clock.Advance(2 * time.Minute)
			if err := p.CatchUp(ctx, 20); err != nil {
				t.Fatal(err)
			}
			assertTruth(t, e.sim, e.st)
			if !hl.saw(c.state, c.reason) {
				t.Fatalf("no %s health mentioning %q:\n%s", c.state, c.reason, hl)
			}
			if h := e.health(t); h.State != store.HealthCollecting {
				t.Fatalf("final health %+v", h)
			}
		})
	}
}

// TestRevokedTokenIsAnErrorWithFix revokes the token mid-stream: the integration goes to error
// with the fix, and once a new token is stored collection resumes where it stopped.
func TestRevokedTokenIsAnErrorWithFix(t *testing.T) {
	e, _, p, hl := faultEnv(t, 0, nil)
	ctx := context.Background()
	e.sim.add(t, 100, 0, 0, nil)
	e.sim.clock.Advance(time.Second)
	if err := p.CatchUp(ctx, 0); err != nil {
		t.Fatal(err)
	}
	e.sim.srv.Tokens().Revoke(e.sim.tokenID)
	e.sim.add(t, 100, 0, 0, nil)
	e.sim.clock.Advance(time.Second)
	err := p.CatchUp(ctx, 3)
	if err == nil {
		t.Fatal("a revoked token collected")
	}
	h := e.health(t)
	if h.State != store.HealthError || h.Fix == "" || !strings.Contains(h.Fix, "token") {
		t.Fatalf("health after revocation %+v", h)
	}
	if strings.Contains(h.Reason+h.Fix, e.sim.token) {
		t.Fatal("health shows the token")
	}
	_, tok := e.sim.srv.Tokens().Add(oktasim.APIToken{Name: "new", AdminID: "00uadmin", Roles: []oktasim.Role{oktasim.RoleSuperAdmin}})
	in := e.in
	in.Credentials.APIToken = secret.New(tok)
	if _, err := e.st.UpdateIntegration(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := e.pollerWith(t, Config{PageLimit: 50}, hl, okta.RetryConfig{}).CatchUp(ctx, 0); err != nil {
		t.Fatal(err)
	}
	assertTruth(t, e.sim, e.st)
}

// TestClockSkew runs the org five minutes ahead of and behind the collector under tight rate
// limits: the governor reads resets against the server's Date, so nothing is lost and no 429 is
// provoked.
func TestClockSkew(t *testing.T) {
	for _, skew := range []time.Duration{5 * time.Minute, -5 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			limits := oktasim.DefaultRateLimits()
			limits.Buckets[0].PerMinute = 40
			e, _, p, _ := faultEnv(t, skew, &limits)
			e.sim.add(t, 800, 0.1, time.Minute, nil)
			e.sim.clock.Advance(2 * time.Minute)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go drive(ctx, e.sim.clock)
			if err := p.CatchUp(ctx, 5); err != nil {
				t.Fatal(err)
			}
			assertTruth(t, e.sim, e.st)
			for _, r := range e.sim.requests("/api/v1/logs") {
				if r.Status == http.StatusTooManyRequests {
					t.Fatalf("429 at %v", r.Time)
				}
			}
		})
	}
}
