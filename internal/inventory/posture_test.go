package inventory

import (
	"context"
	"slices"
	"testing"

	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/posture"
	"github.com/idwatch/idwatch/internal/store"
)

// findingKinds syncs the org and returns the kinds of the stored findings.
func findingKinds(t *testing.T, o *org) ([]string, []store.PostureFinding) {
	t.Helper()
	ctx := context.Background()
	if _, err := o.svc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	fs, err := o.st.Posture(ctx, o.svc.IntegrationID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, f := range fs {
		kinds = append(kinds, f.Kind)
		if f.Why == "" || f.Fix == "" || f.Severity == "" || len(f.Accounts) == 0 {
			t.Errorf("finding %s is incomplete: %+v", f.Kind, f)
		}
	}
	return kinds, fs
}

// TestCleanOrgHasNoFindings: a scenario org without flaws (FlawsForSeed of a multiple of 64)
// and a least-privilege connector triggers no posture finding.
func TestCleanOrgHasNoFindings(t *testing.T) {
	o := newOrg(t, orgOptions{seed: 128, users: 300, flaws: oktasim.FlawsForSeed(128)})
	kinds, fs := findingKinds(t, o)
	if len(kinds) != 0 {
		t.Fatalf("clean org has findings: %+v", fs)
	}
}

// TestEachFindingFires plants one flaw per org and expects exactly its finding.
func TestEachFindingFires(t *testing.T) {
	suspendedOwner := func(o *org) {
		t.Helper()
		u, _, _, err := o.srv.AddAdmin(oktasim.User{Status: oktasim.StatusSuspended, AdminRoles: []oktasim.Role{oktasim.RoleReadOnlyAdmin},
			Profile: map[string]any{"login": "old.automation@acme.example", "email": "old.automation@acme.example", "firstName": "Old", "lastName": "Automation"}}, "legacy sync")
		if err != nil || u.Status != oktasim.StatusSuspended {
			t.Fatalf("add suspended token owner: %v %v", u.Status, err)
		}
	}
	cases := []struct {
		name      string
		flaws     []oktasim.Flaw
		connector oktasim.User
		after     func(o *org)
		want      string
		also      []string // findings that follow from the flaw
	}{
		{name: "dormant admin", flaws: []oktasim.Flaw{oktasim.FlawDormantAdmin}, want: posture.KindDormantPrivileged},
		{name: "weak admin mfa", flaws: []oktasim.Flaw{oktasim.FlawWeakAdminMFA}, want: posture.KindAdminWeakMFA},
		{name: "no phishing-resistant factor", flaws: []oktasim.Flaw{oktasim.FlawNoPhishingResistantAdmin}, want: posture.KindAdminNoPhishResistant},
		{name: "many super admins", flaws: []oktasim.Flaw{oktasim.FlawManySuperAdmins}, want: posture.KindTooManySuperAdmins},
		{name: "role to large group", flaws: []oktasim.Flaw{oktasim.FlawGroupRole}, want: posture.KindRoleToLargeGroup,
			also: []string{posture.KindDormantPrivileged}}, // every member is an admin, the never-active ones too
		{name: "missing AD link", flaws: []oktasim.Flaw{oktasim.FlawMissingADLink}, want: posture.KindMissingADLink},
		{name: "connector super admin", flaws: []oktasim.Flaw{}, connector: oktasim.User{AdminRoles: []oktasim.Role{oktasim.RoleSuperAdmin}}, want: posture.KindConnectorOverPriv},
		{name: "token of suspended user", flaws: []oktasim.Flaw{}, after: suspendedOwner, want: posture.KindTokenInactiveOwner},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := newOrg(t, orgOptions{seed: 128, users: 300, flaws: c.flaws, connector: c.connector})
			if c.after != nil {
				c.after(o)
			}
			kinds, fs := findingKinds(t, o)
			want := append([]string{c.want}, c.also...)
			slices.Sort(want)
			slices.Sort(kinds)
			if !slices.Equal(kinds, want) {
				t.Fatalf("findings %v, want %v: %+v", kinds, want, fs)
			}
		})
	}
}

// TestFlawsForSeedCoversEveryFlaw: some seed plants each flaw, and seed 0 plants none.
func TestFlawsForSeedCoversEveryFlaw(t *testing.T) {
	if len(oktasim.FlawsForSeed(0)) != 0 || len(oktasim.FlawsForSeed(64)) != 0 {
		t.Error("seeds 0 and 64 should be clean")
	}
	if got := oktasim.FlawsForSeed(63); !slices.Equal(got, oktasim.AllFlaws) {
		t.Errorf("seed 63: %v, want every flaw", got)
	}
}
