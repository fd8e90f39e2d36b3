package webui

import (
	"context"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// TestBackendIdentity reads a stored inventory through the API: the identities list, posture,
// and the identity card of an alert's user.
func TestBackendIdentity(t *testing.T) {
	b, st, _, _ := backend(t)
	ctx := context.Background()
	in, err := st.CreateIntegration(ctx, store.Integration{Name: "acme", OrgURL: "https://acme.okta.com", AuthKind: store.AuthAPIToken,
		Credentials: store.Credentials{APIToken: secret.New("00tokentokentokentokentokentokentokentoken")}, CustomAttributes: store.DefaultAttributeNames})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err := st.ReplaceInventory(ctx, in.ID, store.InventorySnapshot{Sync: store.InventorySync{IntegrationID: in.ID, StartedAt: at, FinishedAt: at},
		Users: []store.InventoryUser{{ID: "00u1", Login: "kim@acme.example", DisplayName: "Kim Lee", Status: "ACTIVE",
			ObjectSid: "S-1-5-21-1-2-3-1104", ObjectGuid: "9b2c1f4e-3d6a-4f1e-8a2b-6c7d8e9f0a1b", DistinguishedName: "CN=Kim Lee,DC=acme,DC=local",
			Roles: []store.RoleAssignment{{ID: "ra1", Type: "SUPER_ADMIN", Label: "Super Administrator", Status: "ACTIVE", AssignmentType: "USER"}}}}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SavePosture(ctx, in.ID, []store.PostureFinding{{ID: "p1", Kind: "k", Severity: "low", Title: "T", Accounts: []string{"kim@acme.example"}, Why: "w", Fix: "f", FirstSeen: at, LastSeen: at},
		{ID: "p2", Kind: "k2", Severity: "high", Title: "H", Why: "w", Fix: "f", FirstSeen: at, LastSeen: at}}); err != nil {
		t.Fatal(err)
	}
	page, err := b.Identities(ctx, console.IdentityQuery{Admins: true, Limit: 50})
	if err != nil || page.Total != 1 || !page.Rows[0].SuperAdmin || page.Rows[0].Integration != "acme" || page.Rows[0].ObjectSid == "" {
		t.Fatalf("identities: %+v %v", page, err)
	}
	post, err := b.Posture(ctx)
	if err != nil || len(post) != 2 || post[0].Severity != "high" {
		t.Fatalf("posture, most severe first: %+v %v", post, err)
	}
	if _, err := st.AppendAlerts(ctx, []store.Alert{{ID: "al-1", RuleID: "r", Severity: "high", Time: at, IntegrationID: in.ID,
		Body: []byte(`{"unmapped":{"entities":["user:kim@acme.example"]}}`)}}); err != nil {
		t.Fatal(err)
	}
	d, err := b.Alert(ctx, "al-1")
	if err != nil || d.Card == nil || d.Card.Login != "kim@acme.example" || d.Card.ADLink == "" || len(d.Card.AdminRoles) != 1 {
		t.Fatalf("identity card: %+v %v", d.Card, err)
	}
}
