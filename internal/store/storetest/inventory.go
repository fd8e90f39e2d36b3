package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

func (su suite) inventory(t *testing.T) {
	f := su.open(t)
	if _, err := f.s.LoadInventory(f.ctx, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("never synced: %v, want ErrNotFound", err)
	}
	snap := store.InventorySnapshot{
		Sync: store.InventorySync{IntegrationID: 1, StartedAt: epoch, FinishedAt: epoch.Add(time.Second), Users: 2, Groups: 1,
			APICalls: map[string]int{"users": 1, "groups": 1}, TokensVisible: true, APITokens: []store.APITokenInfo{{ID: "00T1", UserID: "00u1"}}},
		Users: []store.InventoryUser{
			{ID: "00u1", Login: "Jane.Doe@Acme.example", Status: "ACTIVE", ObjectSid: "S-1-5-21-1-2-3-1104", LastLogin: epoch,
				Roles: []store.RoleAssignment{{ID: "ra1", Type: "SUPER_ADMIN", AssignmentType: "USER"}}},
			{ID: "00u2", Login: "bob@acme.example", Status: "DEPROVISIONED"},
		},
		Groups: []store.InventoryGroup{{ID: "00g1", Name: "Everyone", Members: []string{"00u1", "00u2"}}},
	}
	f.must(f.s.ReplaceInventory(f.ctx, 1, snap))
	// Another integration's inventory is separate.
	f.must(f.s.ReplaceInventory(f.ctx, 2, store.InventorySnapshot{Sync: store.InventorySync{IntegrationID: 2},
		Users: []store.InventoryUser{{ID: "00u1", Login: "other@acme.example"}}}))
	got, err := f.s.LoadInventory(f.ctx, 1)
	f.must(err)
	if len(got.Users) != 2 || len(got.Groups) != 1 || got.Sync.APICalls["users"] != 1 || !got.Users[0].LastLogin.Equal(epoch) ||
		len(got.Users[0].Roles) != 1 || len(got.Sync.APITokens) != 1 {
		t.Fatalf("loaded %+v", got)
	}
	u, err := f.s.InventoryUser(f.ctx, 1, "jane.doe@acme.EXAMPLE")
	if err != nil || u.ID != "00u1" {
		t.Fatalf("by login: %+v %v", u, err)
	}
	if _, err := f.s.InventoryUser(f.ctx, 1, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	u.Status = "SUSPENDED"
	f.must(f.s.PutInventoryUser(f.ctx, 1, u))
	f.must(f.s.DeleteInventoryUser(f.ctx, 1, "00u2"))
	f.must(f.s.DeleteInventoryUser(f.ctx, 1, "00u2")) // a missing user is not an error
	f.must(f.s.PutInventoryGroup(f.ctx, 1, store.InventoryGroup{ID: "00g2", Name: "Admins", Members: []string{"00u1"}}))
	f.must(f.s.DeleteInventoryGroup(f.ctx, 1, "00g1"))
	got, err = f.s.LoadInventory(f.ctx, 1)
	f.must(err)
	if len(got.Users) != 1 || got.Users[0].Status != "SUSPENDED" || len(got.Groups) != 1 || got.Groups[0].ID != "00g2" {
		t.Fatalf("after updates: %+v", got)
	}
	if err := f.s.PutInventoryUser(f.ctx, 1, store.InventoryUser{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("user without id: %v", err)
	}
	// A full sync replaces everything.
	f.must(f.s.ReplaceInventory(f.ctx, 1, store.InventorySnapshot{Sync: store.InventorySync{IntegrationID: 1}}))
	if got, _ = f.s.LoadInventory(f.ctx, 1); len(got.Users)+len(got.Groups) != 0 {
		t.Fatalf("after replace: %+v", got)
	}

	// Posture: FirstSeen survives recomputation; order is by severity.
	f.must(f.s.SavePosture(f.ctx, 1, []store.PostureFinding{
		{ID: "b", Kind: "b", Severity: "low", FirstSeen: epoch, LastSeen: epoch},
		{ID: "a", Kind: "a", Severity: "high", FirstSeen: epoch, LastSeen: epoch},
	}))
	later := epoch.Add(time.Hour)
	f.must(f.s.SavePosture(f.ctx, 1, []store.PostureFinding{
		{ID: "a", Kind: "a", Severity: "high", FirstSeen: later, LastSeen: later},
		{ID: "c", Kind: "c", Severity: "medium", FirstSeen: later, LastSeen: later},
	}))
	fs, err := f.s.Posture(f.ctx, 1)
	f.must(err)
	if len(fs) != 2 || fs[0].ID != "a" || !fs[0].FirstSeen.Equal(epoch) || !fs[0].LastSeen.Equal(later) || fs[1].ID != "c" {
		t.Fatalf("posture: %+v", fs)
	}
	if fs, _ := f.s.Posture(f.ctx, 2); len(fs) != 0 {
		t.Errorf("integration 2 has findings: %+v", fs)
	}
}
