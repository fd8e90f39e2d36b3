package hooks

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/process"
	"github.com/idwatch/idwatch/internal/store"
)

// attackEvent is one event of an admin-takeover storyline that a built-in detection alerts on:
// an API token created for any network (eligible for event hooks).
func (f *fixture) attackEvent(i int) []byte {
	n := f.n.Add(1)
	raw, _ := json.Marshal(map[string]any{
		"uuid": fmt.Sprintf("%08x-0000-4000-9000-%012d", n>>16, n), "published": time.Now().UTC().Format(time.RFC3339Nano),
		"eventType": "system.api_token.create", "version": "0", "severity": "INFO", "displayMessage": "Create API token",
		"actor":        map[string]any{"id": fmt.Sprintf("00uadm%04d", i), "type": "User", "alternateId": fmt.Sprintf("admin%d@acme.example", i)},
		"outcome":      map[string]any{"result": "SUCCESS"},
		"target":       []map[string]any{{"id": fmt.Sprintf("00T%06d", i), "type": "Token", "displayName": "sync"}},
		"debugContext": map[string]any{"debugData": map[string]any{"networkConnection": "ANYWHERE"}},
	})
	return raw
}

// freshness runs collection (polling every pollEvery, and push when set) and the processor with
// the built-in rules, feeds n attack events one per gap, and returns each event's delay from
// published to the commit of its alert.
func freshness(tb testing.TB, push bool, pollEvery time.Duration, n int, gap time.Duration) []time.Duration {
	f := newFixture(tb, fixtureOptions{})
	if push {
		f.subscribe("system.api_token.create", "user.session.start")
	}
	ctx, cancel := context.WithCancel(f.ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()

	var mu sync.Mutex
	var delays []time.Duration
	bySource := map[string]int{}
	proc, err := process.New(ctx, process.Config{Store: f.st, Logger: slog.New(slog.DiscardHandler), PollInterval: 100 * time.Millisecond,
		Observe: func(_ []store.Entry, alerting []*store.Entry) {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			for _, e := range alerting {
				if e.EventType == "system.api_token.create" {
					delays = append(delays, now.Sub(e.Published))
					bySource[e.Source]++
				}
			}
		}})
	if err != nil {
		tb.Fatal(err)
	}
	govs, _ := okta.NewGovernorSet(okta.GovernorConfig{})
	cl, err := (&collect.Clients{Governors: govs, Logger: slog.New(slog.DiscardHandler)}).Client(f.in)
	if err != nil {
		tb.Fatal(err)
	}
	poller, err := collect.NewPoller(f.in.ID, cl, f.st, nil, collect.Config{PollInterval: pollEvery})
	if err != nil {
		tb.Fatal(err)
	}
	wg.Go(func() { _ = proc.Run(ctx) })
	wg.Go(func() { _ = poller.Run(ctx) })
	for i := range n {
		if _, err := f.sim.AppendRaw(f.attackEvent(i), 0); err != nil {
			tb.Fatal(err)
		}
		<-time.After(gap)
	}
	deadline := time.Now().Add(pollEvery + 30*time.Second)
	for {
		mu.Lock()
		got := len(delays)
		mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d attack events alerted", got, n)
		}
		waitFor(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	tb.Logf("push %t, poll every %s: %d alerts (by source %v); event → alert p50 %s, p99 %s, max %s", push, pollEvery, len(delays), bySource,
		percentile(delays, 50).Round(time.Millisecond), percentile(delays, 99).Round(time.Millisecond), percentile(delays, 100).Round(time.Millisecond))
	return delays
}

// TestFreshnessPush: with push on, every attack event raises its alert, merged with polling at
// its default interval. With IDWATCH_FRESHNESS=1 it is the freshness benchmark: 100 events,
// event → alert p99 must be under 2 s with push, and polling only is measured for comparison
// (a poll interval or more per event).
func TestFreshnessPush(t *testing.T) {
	bench := os.Getenv("IDWATCH_FRESHNESS") != ""
	n := 10
	if bench {
		n = 100
	}
	d := freshness(t, true, collect.DefaultPollInterval, n, 100*time.Millisecond)
	if !bench {
		return
	}
	if p99 := percentile(d, 99); p99 >= 2*time.Second {
		t.Fatalf("push: event → alert p99 %s, want under 2 s", p99)
	}
	freshness(t, false, collect.DefaultPollInterval, n, 300*time.Millisecond)
}
