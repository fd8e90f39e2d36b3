package inventory

import (
	"context"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/oktasim"
)

// waitFor advances clk by step until cond holds, failing after a real-time deadline.
func waitFor(t *testing.T, clk *clock.Manual, step time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		clk.Advance(step)
		time.Sleep(time.Millisecond) // let the runner's goroutine take its turn
	}
}

// TestRunSyncsThenFollowsTheJournal: Run makes the first full sync, applies journal events on
// its next poll, and syncs again once the interval has passed.
func TestRunSyncsThenFollowsTheJournal(t *testing.T) {
	o := newOrg(t, orgOptions{seed: 128, users: 60, flaws: []oktasim.Flaw{}})
	clk := clock.NewManual(t0)
	o.svc.Syncer.Now = clk.Now
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.svc.Run(ctx, clk, time.Second) }()
	defer func() {
		cancel()
		<-done
	}()
	bg := context.Background()
	waitFor(t, clk, time.Second, "the first sync", func() bool {
		_, err := o.st.LoadInventory(bg, o.svc.IntegrationID)
		return err == nil
	})
	snap, _ := o.st.LoadInventory(bg, o.svc.IntegrationID)
	first := snap.Sync.FinishedAt
	var target string
	for _, u := range snap.Users {
		if u.Status == "ACTIVE" && len(u.Roles) == 0 {
			target = u.ID
			break
		}
	}
	if err := o.client.SuspendUser(bg, target); err != nil {
		t.Fatal(err)
	}
	o.appendEvent(t, "r1", "user.lifecycle.suspend", o.connector.ID, userTarget(target))
	waitFor(t, clk, time.Second, "the suspension in the inventory", func() bool {
		u, err := o.st.InventoryUser(bg, o.svc.IntegrationID, target)
		return err == nil && u.Status == "SUSPENDED"
	})
	waitFor(t, clk, time.Hour, "the next full sync", func() bool {
		s, err := o.st.LoadInventory(bg, o.svc.IntegrationID)
		return err == nil && s.Sync.FinishedAt.Sub(first) >= 24*time.Hour
	})
}
