package inventory

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/store"
)

// TestManagerFollowsIntegrations: the manager starts an inventory when the feature is turned on
// after it started, stops it when the feature is turned off, and unregisters the inventory's
// journal offset then (and at start, for an offset left by an earlier run), so it no longer
// holds back retention.
func TestManagerFollowsIntegrations(t *testing.T) {
	o := newOrg(t, orgOptions{seed: 128, users: 40})
	bg := context.Background()
	id := o.svc.IntegrationID
	consumer := ConsumerName(id)
	// An offset left by an earlier run with the feature on.
	if _, err := o.st.RegisterConsumer(bg, consumer, store.StreamJournal, 0); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(t0)
	o.svc.Syncer.Now = clk.Now
	m := &Manager{Store: o.st, Clock: clk, Poll: time.Second,
		NewService: func(in store.Integration) (*Service, error) {
			return &Service{Store: o.st, Syncer: o.svc.Syncer, IntegrationID: in.ID}, nil
		}}
	changes := make(chan int64, 100)
	m.OnChange(func(id int64) { changes <- id })
	ctx, cancel := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	registered := func() bool {
		_, err := o.st.Offset(bg, consumer)
		return err == nil
	}
	waitFor(t, clk, time.Second, "the stale offset to go", func() bool { return !registered() })
	if m.Service(id) != nil || m.Enricher(id) != nil {
		t.Fatal("an inventory runs for an integration without the feature")
	}

	setFeatures(t, o, []string{"inventory"})
	waitFor(t, clk, time.Second, "the inventory to start and sync", func() bool { return m.Enricher(id) != nil })
	if !registered() {
		t.Fatal("the running inventory has no journal offset")
	}
	snap, err := o.st.LoadInventory(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Lookup(bg, id, snap.Users[0].Login); !ok {
		t.Fatalf("the manager does not resolve %s", snap.Users[0].Login)
	}
	if got := <-changes; got != id {
		t.Fatalf("change reported for integration %d", got)
	}
	var admin, plain string
	for _, u := range snap.Users {
		if x, _ := m.Lookup(bg, id, u.ID); x.IsAdmin && admin == "" {
			admin = u.Login
		} else if !x.IsAdmin && plain == "" {
			plain = u.Login
		}
	}
	if admin == "" || !m.Admins().Contains(strings.ToLower(admin)) || m.Admins().Contains(strings.ToLower(plain)) ||
		!slices.Contains(m.Admins().Logins(), strings.ToLower(admin)) {
		t.Fatalf("admin set: %s in=%v, %s in=%v", admin, m.Admins().Contains(strings.ToLower(admin)), plain, m.Admins().Contains(strings.ToLower(plain)))
	}

	setFeatures(t, o, nil)
	waitFor(t, clk, time.Second, "the inventory to stop and its offset to go", func() bool {
		return m.Service(id) == nil && !registered()
	})
	if _, ok := m.Lookup(bg, id, snap.Users[0].Login); ok {
		t.Fatal("a stopped inventory still answers lookups")
	}
	if m.Admins().Contains(strings.ToLower(admin)) {
		t.Fatal("a stopped inventory's admins are still in the okta_admins placeholder")
	}
}

func setFeatures(t *testing.T, o *org, features []string) {
	t.Helper()
	in, err := o.st.Integration(context.Background(), o.svc.IntegrationID)
	if err != nil {
		t.Fatal(err)
	}
	in.Features, in.Enabled = features, true
	if _, err := o.st.UpdateIntegration(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// TestManagerReconcileError: a store that cannot list integrations is an error, not a panic.
func TestManagerReconcileError(t *testing.T) {
	o := newOrg(t, orgOptions{seed: 128, users: 5})
	o.st.Close()
	m := &Manager{Store: o.st, NewService: func(store.Integration) (*Service, error) { return nil, errors.New("unused") }}
	if err := m.Reconcile(context.Background()); err == nil {
		t.Fatal("a closed store reconciled")
	}
}
