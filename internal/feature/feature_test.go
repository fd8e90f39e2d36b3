package feature

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in, str, flag string
		scopes        []string
		err           string
	}{
		{in: "", str: "logs", scopes: []string{"okta.logs.read"}},
		{in: "logs", str: "logs", scopes: []string{"okta.logs.read"}},
		{in: "inventory", str: "logs, inventory", flag: "inventory",
			scopes: []string{"okta.logs.read", "okta.users.read", "okta.groups.read", "okta.roles.read", "okta.schemas.read"}},
		{in: " Response , inventory,response", str: "logs, inventory, response", flag: "inventory,response",
			scopes: []string{"okta.logs.read", "okta.users.read", "okta.groups.read", "okta.roles.read", "okta.schemas.read", "okta.users.manage"}},
		{in: "response", str: "logs, response", flag: "response", scopes: []string{"okta.logs.read", "okta.users.manage", "okta.roles.read"}},
		{in: "inventory,sessions", err: `unknown feature "sessions": the features are inventory, response (logs is always on)`},
	} {
		s, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("Parse(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || s.String() != tc.str || s.Flag() != tc.flag || !slices.Equal(s.Scopes(), tc.scopes) {
			t.Errorf("Parse(%q) = %q flag %q scopes %v, %v", tc.in, s, s.Flag(), s.Scopes(), err)
		}
		back, err := FromList(s.List())
		if err != nil || back.Flag() != s.Flag() {
			t.Errorf("FromList(%v) = %q, %v", s.List(), back.Flag(), err)
		}
	}
}

// TestNoSessionsScope pins the scope Okta's OpenAPI names for clearing a user's sessions:
// okta.users.manage; okta.sessions.manage does not grant it.
func TestNoSessionsScope(t *testing.T) {
	all := Every()
	if all.Flag() != "inventory,response" || slices.Contains(all.Scopes(), "okta.sessions.manage") || !slices.Equal(all.NeededBy("okta.users.manage"), []Name{Response}) {
		t.Fatalf("scopes %v", all.Scopes())
	}
	if got := all.NeededBy("okta.apps.read"); got != nil {
		t.Fatalf("okta.apps.read needed by %v", got)
	}
}

// TestNoFactorsScope pins the scope of GET /api/v1/users/{id}/factors: Okta's OpenAPI names
// okta.users.read (okta.factors.read is for the org's factor configuration, /api/v1/org/factors),
// so the inventory reads admins' factors without asking for okta.factors.read.
func TestNoFactorsScope(t *testing.T) {
	inv, err := FromList([]string{"inventory"})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(Every().Scopes(), "okta.factors.read") || !slices.Contains(inv.Scopes(), "okta.users.read") {
		t.Fatalf("inventory scopes %v", inv.Scopes())
	}
}

func TestGrant(t *testing.T) {
	inv, _ := Lookup(Inventory)
	resp, _ := Lookup(Response)
	for _, tc := range []struct {
		f    Feature
		app  bool
		want string
	}{
		{inv, true, "grant okta.users.read, okta.groups.read, okta.roles.read, okta.schemas.read to the service app (Applications > Applications > the app > Okta API Scopes) and assign it Read-Only Administrator (the app's Admin roles tab)"},
		{inv, false, "give the API token's admin Read-Only Administrator (Security > Administrators)"},
		{resp, true, `grant okta.users.manage, okta.roles.read to the service app (Applications > Applications > the app > Okta API Scopes) and assign it a custom admin role with the permissions "Edit users' lifecycle states", "Edit users' authenticator operations", "Clear users' sessions" and "View roles, resources, and admin assignments" over a resource set of all users (the app's Admin roles tab)`},
		{resp, false, `give the API token's admin a custom admin role with the permissions "Edit users' lifecycle states", "Edit users' authenticator operations", "Clear users' sessions" and "View roles, resources, and admin assignments" over a resource set of all users (Security > Administrators)`},
	} {
		if got := tc.f.Grant(tc.app); got != tc.want {
			t.Errorf("%s app=%v:\n got %s\nwant %s", tc.f.Name, tc.app, got, tc.want)
		}
		if !tc.app && strings.Contains(tc.f.Grant(false), "okta.") {
			t.Errorf("%s: a token's fix names scopes", tc.f.Name)
		}
	}
}
