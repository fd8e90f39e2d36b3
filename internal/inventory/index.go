package inventory

import (
	"context"
	"slices"
	"strings"

	"github.com/idwatch/idwatch/internal/store"
)

// Index answers lookups from one inventory snapshot in memory, for enrichment of every record:
// by id or lowercased login, with each user's groups precomputed.
type Index struct {
	snap     *store.InventorySnapshot
	byKey    map[string]int   // user id and lowercased login → index in snap.Users
	groupsOf map[string][]int // user id → indexes in snap.Groups
}

// NewIndex indexes snap; snap must not change afterwards.
func NewIndex(snap *store.InventorySnapshot) *Index {
	x := &Index{snap: snap, byKey: make(map[string]int, 2*len(snap.Users)), groupsOf: map[string][]int{}}
	for i, u := range snap.Users {
		x.byKey[u.ID] = i
		if u.Login != "" {
			x.byKey[strings.ToLower(u.Login)] = i
		}
	}
	for gi, g := range snap.Groups {
		for _, m := range g.Members {
			x.groupsOf[m] = append(x.groupsOf[m], gi)
		}
	}
	return x
}

// Lookup finds a user by id or login (case-insensitive).
func (x *Index) Lookup(userIDOrLogin string) (Identity, bool) {
	i, ok := x.byKey[userIDOrLogin]
	if !ok {
		i, ok = x.byKey[strings.ToLower(userIDOrLogin)]
	}
	if !ok {
		return Identity{}, false
	}
	u := x.snap.Users[i]
	groups := make([]store.InventoryGroup, 0, len(x.groupsOf[u.ID]))
	for _, gi := range x.groupsOf[u.ID] {
		groups = append(groups, x.snap.Groups[gi])
	}
	return identityFrom(x.snap.Sync.IntegrationID, u, groups), true
}

// Lookup resolves a user against the inventory the Service keeps in memory (refreshed after each
// sync and each batch of events); ok is false for another integration, an unknown user, or
// before the first sync or load.
func (s *Service) Lookup(_ context.Context, integrationID int64, userIDOrLogin string) (Identity, bool) {
	x := s.index.Load()
	if x == nil || integrationID != s.IntegrationID {
		return Identity{}, false
	}
	return x.Lookup(userIDOrLogin)
}

// groupsOfUser returns the groups listing id as a member.
func groupsOfUser(snap *store.InventorySnapshot, id string) []store.InventoryGroup {
	var out []store.InventoryGroup
	for _, g := range snap.Groups {
		if slices.Contains(g.Members, id) {
			out = append(out, g)
		}
	}
	return out
}
