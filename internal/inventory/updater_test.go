package inventory

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/posture"
	"github.com/idwatch/idwatch/internal/store"
)

// mutate changes the org's workforce users (the connector, added by AddAdmin, stays as it is).
func (o *org) mutate(t *testing.T, fn func(u *oktasim.User) bool) string {
	t.Helper()
	users := o.srv.Users()
	users = slices.DeleteFunc(users, func(u oktasim.User) bool { return u.ID == o.connector.ID })
	changed := ""
	for i := range users {
		if changed == "" && fn(&users[i]) {
			changed = users[i].ID
		}
	}
	if changed == "" {
		t.Fatal("no user to change")
	}
	if err := o.srv.SetUsers(users); err != nil {
		t.Fatal(err)
	}
	return changed
}

// TestIncrementalUpdates: a lifecycle change, a group membership, a role grant and a factor
// enrollment are in the inventory after one Step once their events are in the journal.
func TestIncrementalUpdates(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t, orgOptions{seed: 128, users: 300, flaws: []oktasim.Flaw{}})
	snap, err := o.svc.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var plain []store.InventoryUser
	for _, u := range snap.Users {
		if u.Status == "ACTIVE" && len(u.Roles) == 0 && u.ID != o.connector.ID {
			plain = append(plain, u)
		}
	}
	suspended, joiner, promoted := plain[0], plain[1], plain[2]
	group := snap.Groups[len(snap.Groups)-1]
	if slices.Contains(group.Members, joiner.ID) {
		t.Fatalf("joiner %s already in %s", joiner.ID, group.Name)
	}

	// Nothing in the journal yet: a step reads nothing.
	if n, _, err := o.svc.Step(ctx); err != nil || n != 0 {
		t.Fatalf("empty journal: read %d, %v", n, err)
	}

	if err := o.client.SuspendUser(ctx, suspended.ID); err != nil {
		t.Fatal(err)
	}
	o.appendEvent(t, "e1", "user.lifecycle.suspend", o.connector.ID, userTarget(suspended.ID))
	o.mutate(t, func(u *oktasim.User) bool {
		if u.ID != joiner.ID {
			return false
		}
		u.GroupIDs = append(u.GroupIDs, group.ID)
		return true
	})
	o.appendEvent(t, "e2", "group.user_membership.add", o.connector.ID, userTarget(joiner.ID), groupTarget(group.ID))
	o.mutate(t, func(u *oktasim.User) bool {
		if u.ID != promoted.ID {
			return false
		}
		u.AdminRoles = []oktasim.Role{oktasim.RoleHelpDeskAdmin}
		u.Factors = []oktasim.Factor{{ID: "mbf0000000000000001", FactorType: "sms", Provider: "OKTA", Status: "ACTIVE"}}
		return true
	})
	o.appendEvent(t, "e3", "user.account.privilege.grant", o.connector.ID, userTarget(promoted.ID))
	o.appendEvent(t, "e4", "user.session.start", joiner.ID) // moves lastLogin without an API call

	read, applied, err := o.svc.Step(ctx)
	if err != nil || read != 4 || applied != 4 {
		t.Fatalf("step: read %d, applied %d, %v", read, applied, err)
	}
	check := func(id string) store.InventoryUser {
		t.Helper()
		u, err := o.st.InventoryUser(ctx, o.svc.IntegrationID, id)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if u := check(suspended.ID); u.Status != "SUSPENDED" {
		t.Errorf("suspended user: status %s", u.Status)
	}
	if u := check(joiner.ID); !u.LastLogin.Equal(t0.Add(60e9)) {
		t.Errorf("joiner lastLogin %v, want the session event's time", u.LastLogin)
	}
	inv, err := o.st.LoadInventory(ctx, o.svc.IntegrationID)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(inv.Groups, func(g store.InventoryGroup) bool { return g.ID == group.ID })
	if i < 0 || !slices.Contains(inv.Groups[i].Members, joiner.ID) {
		t.Errorf("group %s does not list the joiner after group.user_membership.add", group.Name)
	}
	u := check(promoted.ID)
	if !posture.HasRole(u.Roles, "HELP_DESK_ADMIN") || !u.FactorsKnown || len(u.Factors) != 1 {
		t.Errorf("promoted user: roles %v, factors %v (known %v)", u.Roles, u.Factors, u.FactorsKnown)
	}
	fs, err := o.st.Posture(ctx, o.svc.IntegrationID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(fs, func(f store.PostureFinding) bool {
		return f.Kind == posture.KindAdminWeakMFA && slices.Contains(f.Accounts, u.Login)
	}) {
		t.Errorf("the new SMS-only admin is not a weak-MFA finding: %+v", fs)
	}

	// A factor enrollment: re-read the user's factors; the finding goes away.
	o.mutate(t, func(x *oktasim.User) bool {
		if x.ID != promoted.ID {
			return false
		}
		x.Factors = append(x.Factors, oktasim.Factor{ID: "fwf0000000000000001", FactorType: "webauthn", Provider: "FIDO", Status: "ACTIVE"})
		return true
	})
	o.appendEvent(t, "e5", "user.mfa.factor.activate", promoted.ID, userTarget(promoted.ID))
	if _, applied, err := o.svc.Step(ctx); err != nil || applied != 1 {
		t.Fatalf("factor step: applied %d, %v", applied, err)
	}
	if u := check(promoted.ID); len(u.Factors) != 2 {
		t.Errorf("factors after enrollment: %v", u.Factors)
	}
	if fs, _ := o.st.Posture(ctx, o.svc.IntegrationID); len(fs) != 0 {
		t.Errorf("findings after the admin enrolled WebAuthn: %+v", fs)
	}

	id, ok := (&Lookup{Store: o.st}).Lookup(ctx, o.svc.IntegrationID, u.Login)
	if !ok || !id.IsAdmin || id.FactorStrength != "phishing-resistant" || id.UserID != promoted.ID {
		t.Errorf("lookup of %s: %+v, %v", u.Login, id, ok)
	}
	mem, ok := o.svc.Lookup(ctx, o.svc.IntegrationID, strings.ToUpper(u.Login))
	if !ok || !reflect.DeepEqual(mem, id) {
		t.Errorf("in-memory lookup differs from the stored one:\n%+v\n%+v", mem, id)
	}
	if _, ok := o.svc.Lookup(ctx, o.svc.IntegrationID+1, u.Login); ok {
		t.Error("in-memory lookup answered for another integration")
	}
	if _, ok := (&Lookup{Store: o.st}).Lookup(ctx, o.svc.IntegrationID, "nobody@acme.example"); ok {
		t.Error("lookup of an unknown login succeeded")
	}
}

// deniedAPI answers every user read with Okta's 403.
type deniedAPI struct{ API }

func (deniedAPI) GetUser(context.Context, string) (*okta.User, error) {
	return nil, &okta.APIError{Kind: okta.KindPermission, Status: 403, Code: "E0000006", Summary: "You do not have permission to perform the requested action"}
}

// TestRefusedReReadDoesNotStall: when Okta refuses a re-read for good, the updater moves past
// the events instead of holding the journal back until the next full sync.
func TestRefusedReReadDoesNotStall(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t, orgOptions{seed: 128, users: 40, flaws: []oktasim.Flaw{}})
	snap, err := o.svc.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o.svc.Syncer.API = deniedAPI{o.svc.Syncer.API}
	o.appendEvent(t, "d1", "user.lifecycle.suspend", o.connector.ID, userTarget(snap.Users[0].ID))
	if read, _, err := o.svc.Step(ctx); err != nil || read != 1 {
		t.Fatalf("step: read %d, %v", read, err)
	}
	if off, _ := o.st.Offset(ctx, ConsumerName(o.svc.IntegrationID)); off == 0 {
		t.Error("offset did not move past the refused event")
	}
}
