package inventory

import (
	"slices"
	"strings"
	"sync/atomic"

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

// AdminSet holds the logins and ids (lower-cased) of the admins of every running inventory: the
// values of the %okta_admins% placeholder, refreshed whenever an inventory changes.
type AdminSet struct {
	v atomic.Pointer[adminValues]
}

type adminValues struct {
	set    map[string]bool // lower-cased ids and logins
	logins []string        // sorted
}

// Contains reports whether lower (a lower-cased login or user id) is an admin's.
func (a *AdminSet) Contains(lower string) bool {
	v := a.v.Load()
	return v != nil && v.set[lower]
}

// Logins lists the admins' logins, sorted.
func (a *AdminSet) Logins() []string {
	if v := a.v.Load(); v != nil {
		return slices.Clone(v.logins)
	}
	return nil
}

// Admins is the set of admins of the running inventories, kept current by the manager.
func (m *Manager) Admins() *AdminSet { return &m.admins }

// refreshAdmins rebuilds the admin set from the running inventories' indexes.
func (m *Manager) refreshAdmins() {
	m.mu.Lock()
	var xs []*Index
	for _, r := range m.running {
		if x := r.svc.index.Load(); x != nil {
			xs = append(xs, x)
		}
	}
	m.mu.Unlock()
	v := &adminValues{set: map[string]bool{}}
	for _, x := range xs {
		viaGroup := map[string]bool{}
		for _, g := range x.snap.Groups {
			if len(g.Roles) > 0 {
				for _, id := range g.Members {
					viaGroup[id] = true
				}
			}
		}
		for _, u := range x.snap.Users {
			if len(u.Roles) == 0 && !viaGroup[u.ID] {
				continue
			}
			v.set[strings.ToLower(u.ID)] = true
			if l := strings.ToLower(u.Login); l != "" && !v.set[l] {
				v.set[l] = true
				v.logins = append(v.logins, l)
			}
		}
	}
	slices.Sort(v.logins)
	m.admins.v.Store(v)
}
