package server

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/inventory"
	"github.com/idwatch/idwatch/internal/store"
)

// TestIdentityRoutes reads a stored inventory and its posture through the API: filters, one
// user's card with the AD link and admin roles, and a sync that cannot run here naming its fix.
func TestIdentityRoutes(t *testing.T) {
	e := newEnv(t)
	e.addTokenIntegration("acme")
	in, err := e.st.IntegrationByName(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	snap := store.InventorySnapshot{Sync: store.InventorySync{IntegrationID: in.ID, StartedAt: at, FinishedAt: at, Users: 2, APICalls: map[string]int{"users": 1}},
		Users: []store.InventoryUser{
			{ID: "00u1", Login: "kim@acme.example", DisplayName: "Kim Lee", Status: "ACTIVE", ProviderType: "ACTIVE_DIRECTORY",
				ObjectSid: "S-1-5-21-1004336348-1177238915-682003330-1104", ObjectGuid: "9b2c1f4e-3d6a-4f1e-8a2b-6c7d8e9f0a1b",
				DistinguishedName: "CN=Kim Lee,OU=Staff,DC=acme,DC=local",
				Roles:             []store.RoleAssignment{{ID: "ra1", Type: "SUPER_ADMIN", Label: "Super Administrator", Status: "ACTIVE", AssignmentType: "USER"}}},
			{ID: "00u2", Login: "cloud@acme.example", DisplayName: "Cloud Only", Status: "ACTIVE", ProviderType: "OKTA"},
		}}
	if err := e.st.ReplaceInventory(t.Context(), in.ID, snap); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SavePosture(t.Context(), in.ID, []store.PostureFinding{{ID: "pf1", Kind: "ad_link_missing", Severity: "low", Title: "Users without the AD link",
		Accounts: []string{"cloud@acme.example"}, Why: "a SIEM cannot join them with Windows events", Fix: "map ObjectSid in the AD import", FirstSeen: at, LastSeen: at}}); err != nil {
		t.Fatal(err)
	}
	viewer := e.keys[store.RoleViewer]
	code, body := e.do(call{method: "GET", path: "/api/v1/inventory/users?admins=true", key: viewer})
	var list InventoryUserList
	if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || list.Total != 1 || list.Users[0].Login != "kim@acme.example" || !list.Users[0].SuperAdmin {
		t.Fatalf("admins: %d %s", code, body)
	}
	code, body = e.do(call{method: "GET", path: "/api/v1/inventory/users?unlinked=true&integration=acme", key: viewer})
	if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || list.Total != 1 || list.Users[0].Login != "cloud@acme.example" {
		t.Fatalf("unlinked: %d %s", code, body)
	}
	code, body = e.do(call{method: "GET", path: "/api/v1/inventory/users/acme/KIM@acme.example", key: viewer})
	var card inventory.Identity
	if err := json.Unmarshal(body, &card); code != http.StatusOK || err != nil || !card.ADLinked || card.ObjectSid == "" || !card.IsAdmin {
		t.Fatalf("card: %d %s", code, body)
	}
	code, body = e.do(call{method: "GET", path: "/api/v1/posture", key: viewer})
	var post postureList
	if err := json.Unmarshal(body, &post); code != http.StatusOK || err != nil || len(post.Findings) != 1 || post.Findings[0].Integration != "acme" || post.Findings[0].Fix == "" {
		t.Fatalf("posture: %d %s", code, body)
	}
	for _, c := range []struct {
		call
		want  int
		field string
	}{
		{call{method: "GET", path: "/api/v1/inventory/users/acme/nobody@acme.example", key: viewer}, 404, "user"},
		{call{method: "GET", path: "/api/v1/inventory/users/nope/kim@acme.example", key: viewer}, 404, "integration"},
		{call{method: "GET", path: "/api/v1/inventory/users?admins=maybe", key: viewer, invalid: true}, 400, "admins"},
		{call{method: "POST", path: "/api/v1/integrations/acme/inventory/sync", key: e.keys[store.RoleAdmin]}, 503, ""},
	} {
		code, body := e.do(c.call)
		if code != c.want {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, code, body, c.want)
			continue
		}
		if er := e.errorOf(body); er.Fix == "" || er.Field != c.field {
			t.Errorf("%s %s: error %+v", c.method, c.path, er)
		}
	}
}
