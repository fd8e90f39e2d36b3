package main

import (
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/detect/sigma"
	"github.com/idwatch/idwatch/internal/inventory"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store"
)

// inventoryPoll is how often serve applies new journal events to the inventories and checks the
// integrations for changes.
const inventoryPoll = 5 * time.Second

// newInventories is serve's inventory manager: it keeps the inventory of every enabled
// integration with the inventory feature current (full sync on schedule, journal events in
// between), following integrations as they are added, changed or lose the feature. The clients
// share serve's governors, so inventory reads queue behind log collection in the org's budget.
func newInventories(io stdio, st store.Store, govs *okta.GovernorSet, cfg inventory.Config) *inventory.Manager {
	clients := &collect.Clients{Governors: govs, Logger: io.log, Dial: io.dial}
	return &inventory.Manager{Store: st, Clock: clock.System{}, Poll: inventoryPoll, Logger: io.log,
		NewService: func(in store.Integration) (*inventory.Service, error) {
			client, err := clients.Client(in)
			if err != nil {
				return nil, err
			}
			return &inventory.Service{Store: st, IntegrationID: in.ID, Logger: io.log.With("integration", in.Name),
				Syncer: &inventory.Syncer{API: client, Config: cfg, ClientID: in.ClientID}}, nil
		}}
}

// adminPlaceholders supplies %okta_admins% from the inventories: live (the admins at match time)
// where a rule's value is exactly the placeholder, else the admins when the rules are compiled.
type adminPlaceholders struct{ admins *inventory.AdminSet }

// Placeholder implements sigma.Placeholders.
func (a adminPlaceholders) Placeholder(name string) ([]string, bool) {
	if !strings.EqualFold(name, "okta_admins") {
		return nil, false
	}
	return a.admins.Logins(), true
}

// LivePlaceholder implements sigma.LivePlaceholders.
func (a adminPlaceholders) LivePlaceholder(name string) (sigma.LiveSet, bool) {
	if !strings.EqualFold(name, "okta_admins") {
		return nil, false
	}
	return a.admins, true
}
