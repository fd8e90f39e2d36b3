package collect

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/oktasim/fault"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

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

// faultEnv is an env whose poller's health is recorded, with short attempt timeouts so that
// oktasim's faults (internal/oktasim/fault, the same rules as /_sim/faults) are felt quickly.
func faultEnv(t *testing.T, skew time.Duration, limits *oktasim.RateLimitConfig) (*env, *Poller, *healthLog) {
	t.Helper()
	o := simOptions{skew: skew, noLimit: limits == nil}
	if limits != nil {
		o.cfg.RateLimits = *limits
	}
	s := newSim(t, o)
	e := newEnv(t, s, okta.GovernorConfig{Share: 0.5})
	hl := &healthLog{HealthWriter: e.st}
	p := e.pollerWith(t, Config{PageLimit: 50}, hl, okta.RetryConfig{MaxRetries: 1, AttemptTimeout: 300 * time.Millisecond,
		BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second})
	return e, p, hl
}

// TestFaultsSurvived injects each fault the System Log can show while a backlog is collected,
// through oktasim's fault injector: every one leaves a health record saying what happened, and
// the journal ends exact.
func TestFaultsSurvived(t *testing.T) {
	cases := []struct {
		name   string
		rule   fault.Rule
		state  store.HealthState
		reason string
	}{
		{"5xx", fault.Rule{Kind: fault.KindStatus, Status: 503, Count: 3}, store.HealthDegraded, "HTTP 503"},
		// Held far longer than the client's 300 ms attempt timeout: the client gives up.
		{"timeout", fault.Rule{Kind: fault.KindSlow, Delay: fault.Duration(time.Hour), Count: 2}, store.HealthDegraded, "timed out"},
		{"truncated", fault.Rule{Kind: fault.KindTruncate, Count: 1}, store.HealthDegraded, "truncated or malformed"},
		{"malformed", fault.Rule{Kind: fault.KindMalformed, Count: 2}, store.HealthDegraded, "truncated or malformed"},
		{"429 storm", fault.Rule{Kind: fault.KindRateLimit, Limit: 60, Reset: fault.Duration(30 * time.Second), Count: 12}, store.HealthDegraded, "rate limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, p, hl := faultEnv(t, 0, nil)
			e.sim.add(t, 300, 0, 0, nil)
			e.sim.clock.Advance(time.Second)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go drive(ctx, e.sim.clock)
			if err := p.CatchUp(ctx, 0); err != nil { // first pages clean
				t.Fatal(err)
			}
			e.sim.add(t, 300, 0.1, time.Minute, nil)
			rule := c.rule
			rule.Path = "/api/v1/logs"
			added, err := e.sim.srv.Faults().Add(rule)
			if err != nil {
				t.Fatal(err)
			}
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
			for _, r := range e.sim.srv.Faults().List() { // a counted rule leaves once used up
				if r.ID == added.ID {
					t.Fatalf("the fault hit %d of its %d requests", r.Hits, rule.Count)
				}
			}
		})
	}
}

// TestRevokedTokenIsAnErrorWithFix revokes the token mid-stream: the integration goes to error
// with the fix, and once a new token is stored collection resumes where it stopped.
func TestRevokedTokenIsAnErrorWithFix(t *testing.T) {
	e, p, hl := faultEnv(t, 0, nil)
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
			e, p, _ := faultEnv(t, skew, &limits)
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
