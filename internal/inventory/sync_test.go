package inventory

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/store"
)

// TestFullSyncMatchesDirectory syncs an org of 10,000 users and 500 groups and checks every
// count against oktasim's directory, and that the API calls stay far below one per user. Under
// -short or -race it syncs 2,000 users and 100 groups: the same paths at a fifth of the cost.
func TestFullSyncMatchesDirectory(t *testing.T) {
	users, groups := 10000, 500
	if testing.Short() || raceEnabled {
		users, groups = 2000, 100
	}
	o := newOrg(t, orgOptions{seed: 7, users: users, groups: groups, flaws: oktasim.AllFlaws})
	ctx := context.Background()
	snap, err := o.svc.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := o.srv.Users()
	if len(snap.Users) != len(want) {
		t.Fatalf("users: got %d, oktasim has %d", len(snap.Users), len(want))
	}
	statuses := map[string]int{}
	for _, u := range want {
		statuses[u.Status]++
	}
	got := map[string]int{}
	linked := 0
	for _, u := range snap.Users {
		got[u.Status]++
		if u.ObjectSid != "" {
			linked++
		}
	}
	if !maps.Equal(got, statuses) {
		t.Errorf("statuses: got %v, want %v", got, statuses)
	}
	if got["DEPROVISIONED"] == 0 {
		t.Error("no DEPROVISIONED user synced; the scenario has some")
	}
	wantLinked := 0
	for _, u := range want {
		if _, ok := u.Profile["ObjectSid"]; ok {
			wantLinked++
		}
	}
	if linked != wantLinked || linked == 0 {
		t.Errorf("users with ObjectSid: got %d, want %d", linked, wantLinked)
	}
	t.Logf("groups in directory: %d", len(snap.Groups))
	members := map[string]int{}
	for _, u := range want {
		for _, g := range u.GroupIDs {
			members[g]++
		}
	}
	if len(snap.Groups) != groups {
		t.Errorf("groups: got %d, want %d", len(snap.Groups), groups)
	}
	for _, g := range snap.Groups {
		if len(g.Members) != members[g.ID] {
			t.Errorf("group %s: %d members, oktasim has %d", g.Name, len(g.Members), members[g.ID])
		}
	}
	admins := 0
	for _, u := range want {
		if len(u.AdminRoles) > 0 || len(u.Permissions) > 0 {
			admins++
		}
	}
	gotAdmins := 0
	for _, u := range snap.Users {
		if len(u.Roles) > 0 {
			gotAdmins++
			if !u.FactorsKnown {
				t.Errorf("admin %s: factors not fetched", u.Login)
			}
		}
	}
	if gotAdmins != admins {
		t.Errorf("users with direct roles: got %d, want %d", gotAdmins, admins)
	}
	if !slices.ContainsFunc(snap.Groups, func(g store.InventoryGroup) bool { return len(g.Roles) > 0 }) {
		t.Error("no group holds a role; the group-role flaw grants one")
	}
	if snap.Sync.Connector.UserID != o.connector.ID || len(snap.Sync.Connector.Roles) != 2 {
		t.Errorf("connector: %+v, want user %s with 2 roles", snap.Sync.Connector, o.connector.ID)
	}
	if !snap.Sync.TokensVisible || len(snap.Sync.APITokens) != 1 {
		t.Errorf("tokens: visible %v, %v", snap.Sync.TokensVisible, snap.Sync.APITokens)
	}
	total := Total(snap.Sync.APICalls)
	t.Logf("full sync of %d users and %d groups: %d API calls %v", len(snap.Users), len(snap.Groups), total, snap.Sync.APICalls)
	if total*5 > len(want) {
		t.Errorf("%d API calls for %d users: want under one per five users", total, len(want))
	}
	loaded, err := o.st.LoadInventory(ctx, o.svc.IntegrationID)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Users) != len(snap.Users) || len(loaded.Groups) != len(snap.Groups) {
		t.Errorf("stored %d users, %d groups; synced %d, %d", len(loaded.Users), len(loaded.Groups), len(snap.Users), len(snap.Groups))
	}
}
