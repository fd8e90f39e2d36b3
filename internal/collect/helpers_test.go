package collect

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// t0 is the simulated start time of every test.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// sim is an oktasim org on 127.0.0.1 with a Super Admin API token.
type sim struct {
	srv     *oktasim.Server
	ts      *httptest.Server
	clock   *clock.Manual // nil when the org runs on the wall clock
	token   string
	tokenID string
	n       int
	mu      sync.Mutex
}

// skewed is an oktasim clock offset from the collector's.
type skewed struct {
	c   interface{ Now() time.Time }
	off time.Duration
}

func (s skewed) Now() time.Time { return s.c.Now().Add(s.off) }

type simOptions struct {
	cfg     oktasim.Config
	wall    bool          // run on the wall clock instead of a clock.Manual
	skew    time.Duration // oktasim's clock minus the collector's
	noLimit bool
	clock   *clock.Manual // share this clock instead of a new one
}

// newSim starts an org. Its clock is the returned clock.Manual (plus skew) unless wall is set.
func newSim(t testing.TB, o simOptions) *sim {
	t.Helper()
	s := &sim{}
	cfg := o.cfg
	if !o.wall {
		s.clock = o.clock
		if s.clock == nil {
			s.clock = clock.NewManual(t0)
		}
		cfg.Clock = skewed{s.clock, o.skew}
	}
	if cfg.ControlKey == "" {
		cfg.ControlKey = "control"
	}
	if o.noLimit {
		cfg.RateLimits = oktasim.DefaultRateLimits()
		cfg.RateLimits.Disabled = true
		for i := range cfg.RateLimits.Buckets {
			cfg.RateLimits.Buckets[i].PerMinute = 1_000_000 // the headers then leave the governor room
		}
	}
	srv, err := oktasim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	info, tok := srv.Tokens().Add(oktasim.APIToken{Name: "idwatch", AdminID: "00uadmin", Roles: []oktasim.Role{oktasim.RoleSuperAdmin}})
	s.srv, s.token, s.tokenID = srv, tok, info.ID
	s.ts = httptest.NewServer(srv)
	t.Cleanup(s.ts.Close)
	return s
}

// now is the org's current time.
func (s *sim) now() time.Time {
	if s.clock != nil {
		return s.clock.Now()
	}
	return time.Now()
}

// add appends n events published around now; a share late of them become visible up to maxDelay
// later. It returns their uuids.
func (s *sim) add(t testing.TB, n int, late float64, maxDelay time.Duration, rng *mrand.Rand) []string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	ids := make([]string, 0, n)
	for range n {
		s.n++
		delay := time.Duration(0)
		if rng != nil && rng.Float64() < late {
			delay = time.Duration(rng.Int64N(int64(maxDelay)) + 1)
		}
		pub := now.Add(-time.Duration(n-len(ids)) * time.Millisecond)
		raw, _ := json.Marshal(map[string]any{
			"uuid": fmt.Sprintf("%08x-0000-4000-8000-%012d", s.n>>16, s.n), "published": pub.Format(time.RFC3339Nano),
			"eventType": "user.session.start", "version": "0", "severity": "INFO",
			"displayMessage": "User login to Okta", "actor": map[string]any{"id": "00u1", "type": "User", "alternateId": "jane@acme.example"},
			"outcome": map[string]any{"result": "SUCCESS"}, "legacyEventType": "core.user_auth.login_success",
		})
		id, err := s.srv.AppendRaw(raw, delay)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// requests returns the org's recorded requests to path.
func (s *sim) requests(path string) []oktasim.RequestRecord {
	var out []oktasim.RequestRecord
	for _, r := range s.srv.RequestLog(0) {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// env is a store with one integration pointing at a sim.
type env struct {
	sim   *sim
	st    *sqlite.Store
	path  string
	in    store.Integration
	govs  *okta.GovernorSet
	clock clock.Clock
}

func newKeyring(t testing.TB) *secret.Keyring {
	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	kr, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func openStore(t testing.TB, path string, kr *secret.Keyring) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: path, Sealer: kr})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// newEnv creates a store in a temp dir with an API-token integration for s.
func newEnv(t testing.TB, s *sim, gov okta.GovernorConfig) *env {
	t.Helper()
	path := t.TempDir() + "/idwatch.db"
	st := openStore(t, path, newKeyring(t))
	t.Cleanup(func() { st.Close() })
	in, err := st.CreateIntegration(context.Background(), store.Integration{Name: "acme", OrgURL: s.ts.URL,
		AuthKind: store.AuthAPIToken, Enabled: true, Credentials: store.Credentials{APIToken: secret.New(s.token)},
		CustomAttributes: store.DefaultAttributeNames})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{sim: s, st: st, path: path, in: in}
	if s.clock != nil {
		e.clock = s.clock
		gov.Clock = s.clock
	} else {
		e.clock = clock.System{}
	}
	if e.govs, err = okta.NewGovernorSet(gov); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) clients() *Clients {
	return &Clients{Governors: e.govs, HTTPClient: e.sim.ts.Client(), Clock: e.clock, Logger: slog.New(slog.DiscardHandler),
		Retry: okta.RetryConfig{AttemptTimeout: 2 * time.Second, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}}
}

// poller returns a fresh poller (a new Okta client) for the env's integration.
func (e *env) poller(t testing.TB, cfg Config) *Poller {
	t.Helper()
	return e.pollerWith(t, cfg, e.st, okta.RetryConfig{})
}

// pollerWith is poller with the health written to hw and the client's retries set.
func (e *env) pollerWith(t testing.TB, cfg Config, hw HealthWriter, retry okta.RetryConfig) *Poller {
	t.Helper()
	in, err := e.st.Integration(context.Background(), e.in.ID)
	if err != nil {
		t.Fatal(err)
	}
	cl := e.clients()
	if retry != (okta.RetryConfig{}) {
		cl.Retry = retry
	}
	c, err := cl.Client(in)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clock = e.clock
	tr := NewTracker(in.ID, hw, e.clock, nil)
	tr.SetBudget(func() float64 { return BudgetShare(c.Governor().Stats()) })
	p, err := NewPoller(in.ID, c, e.st, tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// journalUUIDs returns every uuid in the journal, failing on a duplicate.
func journalUUIDs(t testing.TB, st store.Journal) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	after := int64(0)
	for {
		es, err := st.ReadJournal(context.Background(), after, 10000, store.ReadFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			if seen[e.UUID] {
				t.Fatalf("duplicate uuid %s in the journal", e.UUID)
			}
			seen[e.UUID] = true
			out = append(out, e.UUID)
		}
		after = es[len(es)-1].Seq
	}
	slices.Sort(out)
	return out
}

// assertTruth checks that the journal holds exactly the org's visible events.
func assertTruth(t testing.TB, s *sim, st store.Journal) {
	t.Helper()
	truth := s.srv.VisibleUUIDs()
	slices.Sort(truth)
	got := journalUUIDs(t, st)
	if !slices.Equal(got, truth) {
		missing, extra := diff(truth, got), diff(got, truth)
		t.Fatalf("journal has %d events, org has %d; missing %d (e.g. %v), extra %d (e.g. %v)",
			len(got), len(truth), len(missing), head(missing), len(extra), head(extra))
	}
}

func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			out = append(out, x)
		}
	}
	return out
}

func head(s []string) []string { return s[:min(len(s), 3)] }

// drive advances clock to each pending timer until ctx ends, so that code waiting on the clock
// (backoff, rate-limit waits, poll intervals) runs without real sleeps.
func drive(ctx context.Context, clock *clock.Manual) {
	for {
		if err := clock.WaitForTimers(ctx, 1); err != nil {
			return
		}
		if d, ok := clock.NextTimer(); ok {
			clock.Advance(max(d, time.Millisecond))
		}
	}
}

// health reads the integration's stored health.
func (e *env) health(t testing.TB) store.Health {
	t.Helper()
	h, err := e.st.Health(context.Background(), e.in.ID)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
