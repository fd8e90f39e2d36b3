package main

import (
	"context"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/feature"
	"github.com/idwatch/idwatch/internal/inventory"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store"
)

// inventoryPoll is how often serve applies new journal events to the inventories.
const inventoryPoll = 5 * time.Second

// runInventories keeps the inventory of every enabled integration with the inventory feature
// current (full sync on schedule, journal events in between) until ctx ends. The clients share
// serve's governors, so inventory reads queue behind log collection in the org's budget.
func runInventories(ctx context.Context, io stdio, st store.Store, govs *okta.GovernorSet, cfg inventory.Config) error {
	ins, err := st.ListIntegrations(ctx)
	if err != nil {
		return err
	}
	clients := &collect.Clients{Governors: govs, Logger: io.log, Dial: io.dial}
	var wg sync.WaitGroup
	for _, in := range ins {
		set, err := feature.FromList(in.Features)
		if err != nil || !in.Enabled || !set.Has(feature.Inventory) {
			continue
		}
		client, err := clients.Client(in)
		if err != nil {
			io.log.Warn("inventory: no Okta client for the integration; its inventory is not kept", "integration", in.Name, "error", err)
			continue
		}
		svc := &inventory.Service{Store: st, IntegrationID: in.ID, Logger: io.log.With("integration", in.Name),
			Syncer: &inventory.Syncer{API: client, Config: cfg, ClientID: in.ClientID}}
		wg.Go(func() { _ = svc.Run(ctx, clock.System{}, inventoryPoll) })
	}
	wg.Wait()
	return nil
}
