package posture

import (
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

func TestFactorStrength(t *testing.T) {
	f := func(types ...string) []store.IdentityFactor {
		var out []store.IdentityFactor
		for _, ty := range types {
			out = append(out, store.IdentityFactor{Type: ty, Status: "ACTIVE"})
		}
		return out
	}
	for _, c := range []struct {
		fs   []store.IdentityFactor
		want string
	}{
		{nil, "none"},
		{f("sms", "call", "email"), "weak"},
		{f("sms", "push"), "strong"},
		{f("token:software:totp", "webauthn"), "phishing-resistant"},
		{f("signed_nonce"), "phishing-resistant"},
		{[]store.IdentityFactor{{Type: "webauthn", Status: "PENDING_ACTIVATION"}, {Type: "sms", Status: "ACTIVE"}}, "weak"},
	} {
		if got := FactorStrength(c.fs); got != c.want {
			t.Errorf("%v: %s, want %s", c.fs, got, c.want)
		}
	}
}

// TestEvaluateGroupInheritedAdmin: a member of a role-holding group is an admin for the MFA and
// dormancy checks; the connector never counts as dormant.
func TestEvaluateGroupInheritedAdmin(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	snap := &store.InventorySnapshot{
		Sync: store.InventorySync{Connector: store.ConnectorAccount{UserID: "00uconn", Roles: []store.RoleAssignment{{Type: "READ_ONLY_ADMIN"}}}},
		Users: []store.InventoryUser{
			{ID: "00u1", Login: "a@x", Status: "ACTIVE", LastLogin: now.Add(-40 * 24 * time.Hour), FactorsKnown: true,
				Factors: []store.IdentityFactor{{Type: "sms", Status: "ACTIVE"}}},
			{ID: "00uconn", Login: "svc@x", Status: "ACTIVE", Roles: []store.RoleAssignment{{Type: "READ_ONLY_ADMIN"}}, Created: now.Add(-400 * 24 * time.Hour)},
		},
		Groups: []store.InventoryGroup{{ID: "00g1", Name: "Helpdesk", Members: []string{"00u1"}, Roles: []store.RoleAssignment{{Type: "HELP_DESK_ADMIN"}}}},
	}
	kinds := map[string][]string{}
	for _, f := range Evaluate(snap, Config{}, now) {
		kinds[f.Kind] = f.Accounts
	}
	if len(kinds) != 2 || len(kinds[KindDormantPrivileged]) != 1 || len(kinds[KindAdminWeakMFA]) != 1 {
		t.Fatalf("findings: %v", kinds)
	}
}
