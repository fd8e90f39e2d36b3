package collect

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// waitFor re-checks cond each time the clock has n timers pending (the pollers and the manager
// are all asleep), advancing one poll interval, until cond holds or the deadline passes.
func waitFor(t *testing.T, clock *clock.Manual, n int, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !cond() {
		if err := clock.WaitForTimers(ctx, n); err != nil {
			t.Fatal("condition not reached before the deadline")
		}
		if cond() {
			return
		}
		clock.Advance(15 * time.Second)
	}
}

// TestManagerRunsManyIntegrations collects two orgs in one manager, then follows a disable.
func TestManagerRunsManyIntegrations(t *testing.T) {
	clock := clock.NewManual(t0)
	a := newSim(t, simOptions{noLimit: true, clock: clock})
	b := newSim(t, simOptions{noLimit: true, clock: clock})
	e := newEnv(t, a, okta.GovernorConfig{})
	ctx := context.Background()
	inB, err := e.st.CreateIntegration(ctx, store.Integration{Name: "globex", OrgURL: b.ts.URL, AuthKind: store.AuthAPIToken,
		Enabled: true, Credentials: store.Credentials{APIToken: secret.New(b.token)}})
	if err != nil {
		t.Fatal(err)
	}
	a.add(t, 1500, 0, 0, nil)
	b.add(t, 700, 0, 0, nil)
	clock.Advance(time.Second)
	m, err := NewManager(ManagerConfig{Store: e.st, Clients: e.clients(), Collect: Config{Clock: clock}})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(rctx) }()
	collected := func(id int64, n int64) func() bool {
		return func() bool {
			hs, err := m.Health(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hs {
				if h.IntegrationID == id {
					return h.EventsCollected == n && h.State == store.HealthCollecting
				}
			}
			return false
		}
	}
	waitFor(t, clock, 3, collected(e.in.ID, 1500))
	waitFor(t, clock, 3, collected(inB.ID, 700))

	if err := e.st.SetIntegrationEnabled(ctx, inB.ID, false); err != nil {
		t.Fatal(err)
	}
	m.Sync()
	waitFor(t, clock, 2, func() bool {
		h, err := e.st.Health(ctx, inB.ID)
		return err == nil && h.State == store.HealthDisabled && h.EventsCollected == 700
	})
	b.add(t, 5, 0, 0, nil)
	a.add(t, 5, 0, 0, nil)
	waitFor(t, clock, 2, collected(e.in.ID, 1505))
	cancel()
	<-done
	if n, _ := e.st.CountJournal(ctx, store.ReadFilter{Integrations: []int64{inB.ID}}); n != 700 {
		t.Fatalf("disabled integration has %d events, want 700", n)
	}
	h := e.health(t)
	if h.RequestsMade < 2 || h.LastEventAt.IsZero() {
		t.Fatalf("health %+v", h)
	}
}

// TestManagerVerifyRecordsTheFailure verifies an integration whose token was revoked: the health
// ends in error with the fix.
func TestManagerVerifyRecordsTheFailure(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	e := newEnv(t, s, okta.GovernorConfig{})
	m, err := NewManager(ManagerConfig{Store: e.st, Clients: e.clients(), Collect: Config{Clock: s.clock}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if rep, err := m.Verify(ctx, e.in.ID); err != nil || !rep.CanCollectLogs {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	if h := e.health(t); h.State != store.HealthPending {
		t.Fatalf("health %+v", h)
	}
	s.srv.Tokens().Revoke(s.tokenID)
	rep, err := m.Verify(ctx, e.in.ID)
	if err != nil || rep.CanCollectLogs {
		t.Fatalf("verify revoked: %v %+v", err, rep)
	}
	if h := e.health(t); h.State != store.HealthError || h.Fix == "" {
		t.Fatalf("health %+v", h)
	}
}

// TestManagerSkipsUnreadableCredentials: an integration whose secrets were sealed under a key
// the manager's store does not hold is reported in error with the fix, and the other integration
// collects as usual.
func TestManagerSkipsUnreadableCredentials(t *testing.T) {
	clock := clock.NewManual(t0)
	a := newSim(t, simOptions{noLimit: true, clock: clock})
	e := newEnv(t, a, okta.GovernorConfig{})
	ctx := context.Background()
	other := openStore(t, e.path, newKeyring(t)) // the same database under a key e.st lacks
	lost, err := other.CreateIntegration(ctx, store.Integration{Name: "globex", OrgURL: a.ts.URL, AuthKind: store.AuthAPIToken,
		Enabled: true, Credentials: store.Credentials{APIToken: secret.New(a.token)}})
	other.Close()
	if err != nil {
		t.Fatal(err)
	}
	a.add(t, 300, 0, 0, nil)
	clock.Advance(time.Second)
	m, err := NewManager(ManagerConfig{Store: e.st, Clients: e.clients(), Collect: Config{Clock: clock}})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(rctx) }()
	waitFor(t, clock, 2, func() bool {
		h, err := e.st.Health(ctx, e.in.ID)
		return err == nil && h.EventsCollected == 300 && h.State == store.HealthCollecting
	})
	h, err := e.st.Health(ctx, lost.ID)
	if err != nil || h.State != store.HealthError || !strings.Contains(h.Reason, "credentials unreadable") ||
		!strings.Contains(h.Fix, "idwatch integrations update globex") {
		t.Fatalf("unreadable integration's health %+v, %v", h, err)
	}
	cancel()
	<-done
	if err := m.CatchUp(ctx, 0); err == nil || !strings.Contains(err.Error(), "globex: credentials unreadable") {
		t.Fatalf("catch-up with an unreadable integration: %v", err)
	}
}
