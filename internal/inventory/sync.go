package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store"
)

// API is the part of the Okta client the inventory reads through (*okta.Client implements it).
// Every call is made in the inventory priority lane.
type API interface {
	ListUsers(ctx context.Context, q okta.UsersQuery, fn func([]okta.User) error) error
	GetUser(ctx context.Context, idOrLogin string) (*okta.User, error)
	ListGroups(ctx context.Context, q okta.GroupsQuery, fn func([]okta.Group) error) error
	GetGroup(ctx context.Context, id string) (*okta.Group, error)
	ListGroupMembers(ctx context.Context, groupID string, limit int, fn func([]okta.User) error) error
	ListGroupRoles(ctx context.Context, groupID string) ([]okta.Role, error)
	ListUserRoles(ctx context.Context, userID string) ([]okta.Role, error)
	ListUserFactors(ctx context.Context, userID string) ([]okta.Factor, error)
	ListRoleAssigneeUsers(ctx context.Context, fn func(ids []string) error) error
	GetPage(ctx context.Context, rawURL string) (*okta.Page, error)
}

// Calls counts Okta requests by kind. It is safe for concurrent use.
type Calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *Calls) add(kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[kind]++
}

// Map returns a copy of the counts.
func (c *Calls) Map() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

// Total is the number of requests made.
func Total(m map[string]int) int {
	t := 0
	for _, v := range m {
		t += v
	}
	return t
}

// Syncer reads an integration's inventory from Okta.
type Syncer struct {
	// API reads Okta; required.
	API API
	// Config is the inventory configuration (defaults applied by the Syncer).
	Config Config
	// ClientID is the integration's OAuth client id ("" for an API token integration).
	ClientID string
	// Now returns the current time (default time.Now).
	Now func() time.Time
}

func (s *Syncer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// inventoryCtx puts the reads in the inventory lane, below response actions and log collection.
func inventoryCtx(ctx context.Context) context.Context { return okta.WithLane(ctx, okta.LaneInventory) }

// FullSync reads every user (every status), group with its members and roles, role assignee with
// its roles and factors, API token and the connector's own account. The calls are counted by kind
// in the result's Sync.APICalls; they are per page and per group, never per user, except roles and
// factors of admins.
func (s *Syncer) FullSync(ctx context.Context, integrationID int64) (store.InventorySnapshot, error) {
	ctx = inventoryCtx(ctx)
	cfg := s.Config.WithDefaults()
	calls := &Calls{}
	started := s.now()
	snap := store.InventorySnapshot{Sync: store.InventorySync{IntegrationID: integrationID, StartedAt: started}}

	// "status pr" is the search that includes DEPROVISIONED users, which a plain list omits.
	err := s.API.ListUsers(ctx, okta.UsersQuery{Search: `status pr`, Limit: 200}, func(us []okta.User) error {
		calls.add("users")
		for i := range us {
			snap.Users = append(snap.Users, userFrom(&us[i], cfg.ADAttributes, started))
		}
		return nil
	})
	if err != nil {
		return snap, fmt.Errorf("list users: %w", err)
	}
	byID := make(map[string]int, len(snap.Users))
	for i, u := range snap.Users {
		byID[u.ID] = i
	}

	err = s.API.ListGroups(ctx, okta.GroupsQuery{Limit: 1000}, func(gs []okta.Group) error {
		calls.add("groups")
		for i := range gs {
			snap.Groups = append(snap.Groups, groupFrom(&gs[i], started))
		}
		return nil
	})
	if err != nil {
		return snap, fmt.Errorf("list groups: %w", err)
	}
	for i := range snap.Groups {
		g := &snap.Groups[i]
		if err := s.fillGroup(ctx, g, calls); err != nil {
			return snap, err
		}
	}

	// Direct role assignments: one listing of the assignees, then each assignee's roles.
	var admins []string
	err = s.API.ListRoleAssigneeUsers(ctx, func(ids []string) error {
		calls.add("role-assignees")
		admins = append(admins, ids...)
		return nil
	})
	if err != nil {
		return snap, fmt.Errorf("list role assignees: %w", err)
	}
	for _, id := range admins {
		i, ok := byID[id]
		if !ok {
			continue // assigned after the users were listed; the next update or sync picks it up
		}
		if err := s.fillRoles(ctx, &snap.Users[i], calls); err != nil {
			return snap, err
		}
	}

	// Factors of everyone holding a role: direct admins, and members of role-holding groups of
	// at most GroupAdminFactorsMax members.
	want := map[string]bool{}
	for _, id := range admins {
		want[id] = true
	}
	for _, g := range snap.Groups {
		if len(g.Roles) > 0 && len(g.Members) <= cfg.GroupAdminFactorsMax {
			for _, m := range g.Members {
				want[m] = true
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(want)) {
		i, ok := byID[id]
		if !ok {
			continue
		}
		err := s.fillFactors(ctx, &snap.Users[i], calls)
		if forbidden(err) {
			// Without the admin permission to view users' factors none is readable: the factor
			// findings stay silent rather than guess, and the sync goes on.
			snap.Sync.FactorsDenied = true
			break
		}
		if err != nil {
			return snap, err
		}
	}

	s.readConnector(ctx, &snap.Sync, calls)
	s.readTokens(ctx, &snap.Sync, calls)
	if c := &snap.Sync.Connector; c.UserID != "" {
		if i, ok := byID[c.UserID]; ok {
			c.Login = snap.Users[i].Login
		}
	}

	snap.Sync.FinishedAt = s.now()
	snap.Sync.Users, snap.Sync.Groups = len(snap.Users), len(snap.Groups)
	snap.Sync.APICalls = calls.Map()
	return snap, nil
}

// fillGroup reads a group's members and roles.
func (s *Syncer) fillGroup(ctx context.Context, g *store.InventoryGroup, calls *Calls) error {
	g.Members = g.Members[:0]
	err := s.API.ListGroupMembers(ctx, g.ID, 1000, func(us []okta.User) error {
		calls.add("group-members")
		for _, u := range us {
			g.Members = append(g.Members, u.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list members of group %s: %w", g.ID, err)
	}
	roles, err := s.API.ListGroupRoles(ctx, g.ID)
	calls.add("group-roles")
	if err != nil {
		return fmt.Errorf("list roles of group %s: %w", g.ID, err)
	}
	g.Roles = nil
	for _, r := range roles {
		g.Roles = append(g.Roles, roleFrom(r, g.ID))
	}
	return nil
}

// fillRoles reads a user's direct role assignments (group-inherited ones come from the groups).
func (s *Syncer) fillRoles(ctx context.Context, u *store.InventoryUser, calls *Calls) error {
	roles, err := s.API.ListUserRoles(ctx, u.ID)
	calls.add("user-roles")
	if err != nil {
		return fmt.Errorf("list roles of user %s: %w", u.ID, err)
	}
	u.Roles = nil
	for _, r := range roles {
		if r.AssignmentType == "" || r.AssignmentType == "USER" {
			u.Roles = append(u.Roles, roleFrom(r, ""))
		}
	}
	return nil
}

// fillFactors reads a user's enrolled factors.
func (s *Syncer) fillFactors(ctx context.Context, u *store.InventoryUser, calls *Calls) error {
	fs, err := s.API.ListUserFactors(ctx, u.ID)
	calls.add("user-factors")
	var apiErr *okta.APIError
	if errors.As(err, &apiErr) && apiErr.Status == 404 {
		return nil // deleted since the listing
	}
	if err != nil {
		return fmt.Errorf("list factors of user %s: %w", u.ID, err)
	}
	u.Factors = u.Factors[:0]
	for _, f := range fs {
		u.Factors = append(u.Factors, store.IdentityFactor{ID: f.ID, Type: f.FactorType, Provider: f.Provider, Status: f.Status})
	}
	u.FactorsKnown = true
	return nil
}

// forbidden reports whether Okta refused the call for a missing permission or scope.
func forbidden(err error) bool {
	var apiErr *okta.APIError
	return errors.As(err, &apiErr) && apiErr.Status == 403
}

// readConnector finds the account the integration acts as and its roles. Failures leave it
// empty: the connector check then has nothing to say, and the sync goes on.
func (s *Syncer) readConnector(ctx context.Context, sync *store.InventorySync, calls *Calls) {
	if s.ClientID != "" {
		sync.Connector.ClientID = s.ClientID
		calls.add("connector")
		page, err := s.API.GetPage(ctx, "/oauth2/v1/clients/"+s.ClientID+"/roles")
		if err != nil {
			return
		}
		for _, raw := range page.Items {
			var r okta.Role
			if json.Unmarshal(raw, &r) == nil {
				sync.Connector.Roles = append(sync.Connector.Roles, roleFrom(r, ""))
			}
		}
		return
	}
	calls.add("connector")
	me, err := s.API.GetUser(ctx, "me")
	if err != nil {
		return
	}
	sync.Connector.UserID = me.ID
	calls.add("connector")
	roles, err := s.API.ListUserRoles(ctx, me.ID)
	if err != nil {
		return
	}
	for _, r := range roles {
		sync.Connector.Roles = append(sync.Connector.Roles, roleFrom(r, ""))
	}
}

// readTokens lists the org's API tokens when the integration may (okta.apiTokens.read).
func (s *Syncer) readTokens(ctx context.Context, sync *store.InventorySync, calls *Calls) {
	calls.add("api-tokens")
	page, err := s.API.GetPage(ctx, "/api/v1/api-tokens")
	if err != nil {
		return
	}
	sync.TokensVisible = true
	for _, raw := range page.Items {
		var t struct{ ID, Name, UserID string }
		if json.Unmarshal(raw, &t) == nil && t.ID != "" {
			sync.APITokens = append(sync.APITokens, store.APITokenInfo{ID: t.ID, Name: t.Name, UserID: t.UserID})
		}
	}
}

// userFrom converts Okta's user into the inventory's.
func userFrom(u *okta.User, ad ADAttributes, at time.Time) store.InventoryUser {
	t := func(p *time.Time) time.Time {
		if p == nil {
			return time.Time{}
		}
		return p.UTC()
	}
	name := strings.TrimSpace(u.ProfileString("firstName") + " " + u.ProfileString("lastName"))
	if dn := u.ProfileString("displayName"); dn != "" {
		name = dn
	}
	return store.InventoryUser{ID: u.ID, Login: u.ProfileString("login"), Email: u.ProfileString("email"), DisplayName: name,
		Status: u.Status, Created: t(u.Created), StatusChanged: t(u.StatusChanged), LastLogin: t(u.LastLogin),
		LastUpdated: t(u.LastUpdated), PasswordChanged: t(u.PasswordChanged),
		ProviderType: u.Credentials.Provider.Type, ProviderName: u.Credentials.Provider.Name,
		Department: u.ProfileString("department"), Title: u.ProfileString("title"),
		ObjectSid: u.ProfileString(ad.Sid), ObjectGuid: u.ProfileString(ad.GUID), DistinguishedName: u.ProfileString(ad.DN),
		SyncedAt: at}
}

func groupFrom(g *okta.Group, at time.Time) store.InventoryGroup {
	name, _ := g.Profile["name"].(string)
	out := store.InventoryGroup{ID: g.ID, Name: name, Type: g.Type, Members: []string{}, SyncedAt: at}
	if g.LastMembershipUpdated != nil {
		out.LastMembershipUpdated = g.LastMembershipUpdated.UTC()
	}
	return out
}

func roleFrom(r okta.Role, groupID string) store.RoleAssignment {
	return store.RoleAssignment{ID: r.ID, Type: r.Type, Label: r.Label, Status: r.Status, AssignmentType: r.AssignmentType,
		CustomRole: r.CustomRole, ResourceSet: r.ResourceSet, GroupID: groupID}
}
