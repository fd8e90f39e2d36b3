package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/normalize/ocsftest"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// identityFixture is an inventory of three users: an AD-linked Super Admin, an AD-linked user in
// a group holding a custom role, and a cloud-only user.
func identityFixture() *store.InventorySnapshot {
	return &store.InventorySnapshot{Sync: store.InventorySync{IntegrationID: 7},
		Users: []store.InventoryUser{
			{ID: "00uadmin", Login: "ada.admin@acme.example", DisplayName: "Ada Admin", Status: "ACTIVE", ProviderType: "ACTIVE_DIRECTORY",
				ObjectSid: "S-1-5-21-717838489-685202119-709183397-1104", ObjectGuid: "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
				DistinguishedName: "CN=Ada Admin,OU=Admins,OU=Users,DC=corp,DC=acme,DC=example",
				Roles:             []store.RoleAssignment{{ID: "ra1", Type: "SUPER_ADMIN", Status: "ACTIVE", AssignmentType: "USER"}},
				Factors:           []store.IdentityFactor{{Type: "webauthn", Provider: "FIDO", Status: "ACTIVE"}}, FactorsKnown: true,
				Created: t0.Add(-900 * 24 * time.Hour), LastLogin: t0.Add(-time.Hour)},
			{ID: "00ujane", Login: "jane.doe@acme.example", DisplayName: "Jane Doe", Status: "LOCKED_OUT", ProviderType: "ACTIVE_DIRECTORY",
				ObjectSid: "S-1-5-21-717838489-685202119-709183397-1177", ObjectGuid: "0b6e5f4d-3c2b-4a19-8f7e-6d5c4b3a2910",
				DistinguishedName: "CN=Jane Doe,OU=Finance,OU=Users,DC=corp,DC=acme,DC=example", Department: "Finance"},
			{ID: "00ucloud", Login: "carl.cloud@acme.example", DisplayName: "Carl Cloud", Status: "SUSPENDED", ProviderType: "OKTA"},
		},
		Groups: []store.InventoryGroup{{ID: "00ghelp", Name: "Help Desk", Members: []string{"00ujane"},
			Roles: []store.RoleAssignment{{ID: "ra2", Type: "CUSTOM", CustomRole: "cr0helpdesk", ResourceSet: "iamAllUsers"}}}},
	}
}

// TestIdentityRecordsGolden renders a full sync, an incremental change and posture findings
// created, updated and closed, compares them with testdata/identity/*.golden and validates each
// against the OCSF 1.8.0 schemas of User Inventory Info and IAM Analysis Finding.
func TestIdentityRecordsGolden(t *testing.T) {
	v := ocsftest.New(t)
	snap := identityFixture()
	full := NewIndex(snap)
	finding := store.PostureFinding{ID: "admin-weak-mfa", Kind: "admin-weak-mfa", Severity: "high", Title: "Admins with only weak factors",
		Accounts: []string{"jane.doe@acme.example"}, Why: "SMS and voice are phishable.", Fix: "Enroll FIDO2 for every admin.",
		FirstSeen: t0.Add(-48 * time.Hour), LastSeen: t0}
	dormant := store.PostureFinding{ID: "dormant-privileged-account", Kind: "dormant-privileged-account", Severity: "high",
		Title: "Dormant privileged accounts", Accounts: []string{"carl.cloud@acme.example"}, Why: "Unused admin rights.", Fix: "Remove the roles.",
		FirstSeen: t0.Add(-72 * time.Hour), LastSeen: t0.Add(-time.Hour)}
	grown := finding
	grown.Accounts = append(slices.Clone(finding.Accounts), "ada.admin@acme.example")

	changed := identityFixture()
	changed.Users[1].Status = "ACTIVE"                // jane unlocked
	changed.Users = changed.Users[:2]                 // carl removed from Okta
	changed.Users[0].LastLogin = t0.Add(-time.Minute) // a sign-in alone is no change
	cases := map[string]func() ([]store.IdentityRecord, error){
		"full-sync": func() ([]store.IdentityRecord, error) {
			return identityRecords(7, nil, full, true, nil, []store.PostureFinding{finding, dormant}, t0)
		},
		"incremental": func() ([]store.IdentityRecord, error) {
			return identityRecords(7, full, NewIndex(changed), false, []store.PostureFinding{finding, dormant}, []store.PostureFinding{grown}, t0.Add(time.Minute))
		},
	}
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) {
			recs, err := fn()
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			for _, r := range recs {
				if err := v.Validate(r.Body); err != nil {
					t.Errorf("%s %s is not valid OCSF 1.8.0: %v\n%s", r.Kind, r.UID, err, r.Body)
				}
				buf.WriteString(r.Kind + " " + r.UID + "\n")
				if err := json.Indent(&buf, r.Body, "", "  "); err != nil {
					t.Fatal(err)
				}
				buf.WriteString("\n")
			}
			golden := filepath.Join("testdata", "identity", name+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update creates it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("records differ from %s (go test -update rewrites it):\n%s", golden, buf.Bytes())
			}
		})
	}
	// What each case must hold, whatever the golden files say.
	recs, _ := cases["incremental"]()
	var kinds []string
	for _, r := range recs {
		kinds = append(kinds, r.Kind+":"+r.UID)
	}
	want := []string{"user:00ujane", "user:00ucloud", "posture:admin-weak-mfa", "posture:dormant-privileged-account"}
	if !slices.Equal(kinds, want) {
		t.Errorf("incremental records %v, want %v (the admin's sign-in is no change)", kinds, want)
	}
}

// TestSyncAppendsIdentityStream: a full sync on oktasim appends one User Inventory Info record
// per user and one finding per posture finding; an incremental change appends only the user it
// changed; every record validates against OCSF 1.8.0.
func TestSyncAppendsIdentityStream(t *testing.T) {
	ctx := context.Background()
	v := ocsftest.New(t)
	o := newOrg(t, orgOptions{seed: 63, users: 80, flaws: oktasim.FlawsForSeed(63)})
	snap, err := o.svc.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	findings, err := o.st.Posture(ctx, o.svc.IntegrationID)
	if err != nil || len(findings) == 0 {
		t.Fatalf("posture: %v %v", findings, err)
	}
	recs, err := o.st.ReadIdentityStream(ctx, 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range recs {
		count[r.Kind]++
		if err := v.Validate(r.Body); err != nil {
			t.Fatalf("%s %s: %v\n%s", r.Kind, r.UID, err, r.Body)
		}
	}
	if count[store.IdentityUser] != len(snap.Users) || count[store.IdentityPosture] != len(findings) {
		t.Fatalf("full sync appended %v, want %d users and %d findings", count, len(snap.Users), len(findings))
	}
	var target string
	for _, u := range snap.Users {
		if u.Status == "ACTIVE" && len(u.Roles) == 0 {
			target = u.ID
			break
		}
	}
	if err := o.client.SuspendUser(ctx, target); err != nil {
		t.Fatal(err)
	}
	o.appendEvent(t, "s1", "user.lifecycle.suspend", o.connector.ID, userTarget(target))
	if _, _, err := o.svc.Step(ctx); err != nil {
		t.Fatal(err)
	}
	more, err := o.st.ReadIdentityStream(ctx, recs[len(recs)-1].Seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	// The user's record, and posture findings only where the suspension changed them (a
	// suspended admin leaves the MFA findings).
	users := slices.DeleteFunc(slices.Clone(more), func(r store.IdentityRecord) bool { return r.Kind != store.IdentityUser })
	if len(users) != 1 || users[0].UID != target ||
		!bytes.Contains(users[0].Body, []byte(`"activity_id":1`)) || !bytes.Contains(users[0].Body, []byte(`"status:SUSPENDED"`)) {
		t.Fatalf("the suspension appended %d user records: %+v", len(users), users)
	}
	for _, r := range more {
		if err := v.Validate(r.Body); err != nil {
			t.Fatalf("%s %s: %v", r.Kind, r.UID, err)
		}
		if r.Kind == store.IdentityPosture && !bytes.Contains(r.Body, []byte(`"activity_id":2`)) && !bytes.Contains(r.Body, []byte(`"activity_id":3`)) {
			t.Fatalf("posture record after a change is neither an update nor a close: %s", r.Body)
		}
	}
}
