package inventory

import (
	"slices"

	"github.com/idwatch/idwatch/internal/normalize"
)

// Enricher returns the resolver enrichment uses for an integration's records: the inventory
// index in memory at the time of the call (so one event is enriched against one inventory), or
// nil when the integration has no inventory (its records stay as the event alone maps them).
func (m *Manager) Enricher(integrationID int64) normalize.Enricher {
	svc := m.Service(integrationID)
	if svc == nil {
		return nil
	}
	x := svc.index.Load()
	if x == nil {
		return nil
	}
	return indexEnricher{x}
}

// indexEnricher answers normalize's lookups from one Index.
type indexEnricher struct{ x *Index }

// EnrichUser implements normalize.Enricher.
func (e indexEnricher) EnrichUser(key string) (normalize.Identity, bool) {
	id, ok := e.x.Lookup(key)
	if !ok {
		return normalize.Identity{}, false
	}
	return id.Normalized(), true
}

// Normalized is the identity as enrichment writes it into OCSF records: role types sorted and
// without repeats (a role held directly and through a group counts once).
func (id Identity) Normalized() normalize.Identity {
	var roles []string
	for _, r := range id.Roles {
		if !slices.Contains(roles, r.Type) {
			roles = append(roles, r.Type)
		}
	}
	slices.Sort(roles)
	return normalize.Identity{UserID: id.UserID, Status: id.Status, IsAdmin: id.IsAdmin, Roles: roles,
		ADSid: id.ObjectSid, ADGuid: id.ObjectGuid, ADDN: id.DistinguishedName, Groups: id.Groups,
		FactorStrength: id.FactorStrength}
}
