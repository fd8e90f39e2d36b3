package collect

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// lockedBuffer is a log destination safe for the reporter's goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// take returns what was written since the last take.
func (l *lockedBuffer) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

// TestReportStatus drives the status lines with a manual clock: one line per integration per
// interval, events counted since the previous line, the lag of an integration in error growing
// from its newest event, and no credential in the output.
func TestReportStatus(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := openStore(t, t.TempDir()+"/idwatch.db", newKeyring(t))
	defer st.Close()
	add := func(name string, enabled bool) store.Integration {
		in, err := st.CreateIntegration(ctx, store.Integration{Name: name, OrgURL: "https://" + name + ".okta.com", AuthKind: store.AuthAPIToken,
			Enabled: enabled, Credentials: store.Credentials{APIToken: secret.New("tok-" + name + "-secret")}, CustomAttributes: store.DefaultAttributeNames})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	acme, _ := add("acme", true), add("globex", false)
	// Before the wall clock, so the store's own update times never add to the lag.
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := clock.NewManual(start)
	setHealth := func(h store.Health) {
		h.IntegrationID = acme.ID
		if err := st.SetHealth(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	setHealth(store.Health{State: store.HealthCollecting, EventsCollected: 100, Lag: 2 * time.Second, LastEventAt: start.Add(-time.Minute)})

	govs, err := okta.NewGovernorSet(okta.GovernorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	m, err := NewManager(ManagerConfig{Store: st, Clients: &Clients{Governors: govs}, Collect: Config{Clock: clk, Logger: log}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.ReportStatus(ctx, 0) }()
	// tick applies before once the reporter waits, moves the clock one interval and returns the lines written for it: the reporter has
	// written them once it waits on its next timer.
	tick := func(before func()) string {
		t.Helper()
		if err := clk.WaitForTimers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		before()
		if d, _ := clk.NextTimer(); d != DefaultStatusEvery {
			t.Fatalf("next line in %s, want %s", d, DefaultStatusEvery)
		}
		if s := out.take(); s != "" {
			t.Fatalf("written between lines: %q", s)
		}
		clk.Advance(DefaultStatusEvery)
		if err := clk.WaitForTimers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		return out.take()
	}

	for _, tc := range []struct {
		before func()
		want   string
	}{
		{func() {
			setHealth(store.Health{State: store.HealthCollecting, EventsCollected: 130, Lag: 2 * time.Second, LastEventAt: start, BudgetShareUsed: 0.25})
		}, `level=INFO msg="integration status" integration=acme state=collecting events=30 total=130 lag=2s budget=25%` + "\n" +
			`level=INFO msg="integration status" integration=globex state=disabled events=0 total=0 lag=0s budget=0%` + "\n"},
		{func() {
			setHealth(store.Health{State: store.HealthError, EventsCollected: 130, LastEventAt: start.Add(-2 * time.Hour),
				Reason: "Okta refused the API token (HTTP 401)", Fix: "idwatch integrations update acme --api-token-file F"})
		}, `level=INFO msg="integration status" integration=acme state=error events=0 total=130 lag=2h2m0s budget=0% reason="Okta refused the API token (HTTP 401)" fix="idwatch integrations update acme --api-token-file F"` + "\n" +
			`level=INFO msg="integration status" integration=globex state=disabled events=0 total=0 lag=0s budget=0%` + "\n"},
	} {
		got := tick(tc.before)
		if got != tc.want {
			t.Errorf("lines:\n%s\nwant:\n%s", got, tc.want)
		}
		if strings.Contains(got, "secret") {
			t.Errorf("a credential in the status lines: %s", got)
		}
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("ReportStatus returned %v", err)
	}
}

// TestTrackerLagAfterRestartInError: an integration that fails from its first poll after a
// restart trails real time by as much as its newest collected event, not by nothing.
func TestTrackerLagAfterRestartInError(t *testing.T) {
	clk := clock.NewManual(t0)
	tr := NewTracker(1, nil, clk, nil)
	tr.Resume(store.Health{IntegrationID: 1, State: store.HealthCollecting, EventsCollected: 5, LastEventAt: t0.Add(-2 * time.Hour)})
	tr.Set(store.HealthError, "Okta refused the API token (HTTP 401)", "enter a new token")
	clk.Advance(time.Minute)
	if h := tr.Snapshot(); h.Lag != 2*time.Hour+time.Minute || h.EventsCollected != 5 {
		t.Fatalf("after restart in error: lag %s, events %d", h.Lag, h.EventsCollected)
	}
}
