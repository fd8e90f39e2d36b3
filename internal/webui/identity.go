package webui

import (
	"context"
	"net/http"
	"strings"

	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/inventory"
)

const routeInventoryUser = "/api/v1/inventory/users/{integration}/{user}"

// identityCard is the inventory's card of the first user an alert names, nil when the inventory
// does not know one (not synced yet, or the alert is about an address).
func (b *Backend) identityCard(ctx context.Context, integration string, entities []string) *console.IdentityCard {
	if integration == "" {
		return nil
	}
	for _, e := range entities {
		login, ok := strings.CutPrefix(e, "user:")
		if !ok {
			continue
		}
		var id inventory.Identity
		if _, err := b.o.Server.Invoke(ctx, system, http.MethodGet, routeInventoryUser, map[string]string{"integration": integration, "user": login}, nil, &id); err != nil {
			continue // an id the inventory does not know; the next entity may be the login
		}
		return cardOf(id)
	}
	return nil
}

// cardOf is the console's card of an inventory identity.
func cardOf(id inventory.Identity) *console.IdentityCard {
	c := &console.IdentityCard{Login: id.Login, DisplayName: id.DisplayName, Status: id.Status}
	for _, r := range id.Roles {
		c.AdminRoles = append(c.AdminRoles, firstOf(r.Label, r.Type))
	}
	for _, f := range id.Factors {
		c.Factors = append(c.Factors, strings.TrimSpace(f.Type+" ("+strings.ToLower(f.Status)+")"))
	}
	if len(c.Factors) == 0 && id.FactorStrength != "unknown" {
		c.Factors = []string{id.FactorStrength}
	}
	if id.ADLinked {
		c.ADLink = id.ObjectSid + " · " + id.DistinguishedName
	}
	return c
}
