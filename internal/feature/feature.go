// Package feature is the one table of what each idwatch feature needs from an Okta org: the OAuth
// scopes a service app requests for it and the admin role behind them (which an API token, having
// no scopes, needs on its admin). Integrations add, verify and the docs all read it, so an
// integration asks for exactly what its enabled features use.
package feature

import (
	"fmt"
	"slices"
	"strings"
)

// Name names a feature as --features and the store spell it.
type Name string

// The features. Logs is always on; the others are turned on per integration.
const (
	Logs      Name = "logs"
	Inventory Name = "inventory"
	Response  Name = "response"
)

// Feature is one row of the table.
type Feature struct {
	Name Name
	// Title is how reports name the feature.
	Title string
	// Scopes are the OAuth scopes a service app requests for it, as Okta's OpenAPI names them
	// for the endpoints it calls.
	Scopes []string
	// Role is the least admin role that allows the feature's calls, for the service app or an
	// API token's admin (Okta checks the role as well as the scope).
	Role string
	// Uses says which Okta endpoints the feature calls.
	Uses string
}

// responseRole is the custom admin role response actions need.
const responseRole = `a custom admin role with the permissions "Edit users' lifecycle states", "Edit users' authenticator operations", "Clear users' sessions" and "View roles, resources, and admin assignments" over a resource set of all users`

var table = []Feature{
	{Name: Logs, Title: "log collection", Scopes: []string{"okta.logs.read"},
		Role: "Report Administrator (or Read-Only Administrator)", Uses: "GET /api/v1/logs"},
	// A user's enrolled factors (GET /api/v1/users/{id}/factors) are read with okta.users.read,
	// the scope Okta's OpenAPI names for it; okta.factors.read covers the org's factor settings
	// (/api/v1/org/factors), which idwatch does not read, so it is not asked for.
	{Name: Inventory, Title: "identity inventory and posture",
		Scopes: []string{"okta.users.read", "okta.groups.read", "okta.roles.read", "okta.schemas.read"},
		Role:   "Read-Only Administrator",
		Uses:   "users and their factors, groups and members, admin role assignments, the user schema (AD link attributes)"},
	// okta.roles.read lets the deny-list find the last active super admin before an action that
	// could lock the org's administration out.
	{Name: Response, Title: "response actions", Scopes: []string{"okta.users.manage", "okta.roles.read"}, Role: responseRole,
		Uses: "POST /api/v1/users/{id}/lifecycle/{suspend,unsuspend,deactivate,reset_factors,expire_password}, DELETE /api/v1/users/{id}/sessions, GET /api/v1/iam/assignees/users and /api/v1/users/{id}/roles (deny-list)"},
}

// All returns the table, logs first.
func All() []Feature {
	out := slices.Clone(table)
	for i := range out {
		out[i].Scopes = slices.Clone(out[i].Scopes)
	}
	return out
}

// Lookup returns a feature's row.
func Lookup(n Name) (Feature, bool) {
	for _, f := range All() {
		if f.Name == n {
			return f, true
		}
	}
	return Feature{}, false
}

// Set is an integration's enabled features; logs is always in it. The zero value is logs only.
type Set struct {
	on []Name // optional features, in table order
}

// Optional lists the features an integration may turn on.
func Optional() []Name {
	var out []Name
	for _, f := range table[1:] {
		out = append(out, f.Name)
	}
	return out
}

// Every is the set with every feature on.
func Every() Set {
	var s Set
	for _, n := range Optional() {
		s = s.With(n)
	}
	return s
}

// Parse reads a --features value: a comma-separated list of optional features ("logs" is
// accepted and implied). "" is logs only.
func Parse(s string) (Set, error) {
	var names []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			names = append(names, p)
		}
	}
	return FromList(names)
}

// FromList builds a set from stored names, refusing unknown ones.
func FromList(names []string) (Set, error) {
	var s Set
	for _, n := range names {
		f, ok := Lookup(Name(n))
		if !ok {
			return Set{}, fmt.Errorf("unknown feature %q: the features are %s (logs is always on)", n, Join(Optional()))
		}
		s = s.With(f.Name)
	}
	return s, nil
}

// With returns the set with n turned on too.
func (s Set) With(n Name) Set {
	if n == Logs || s.Has(n) {
		return s
	}
	on := append(slices.Clone(s.on), n)
	slices.SortFunc(on, func(a, b Name) int { return index(a) - index(b) })
	return Set{on: on}
}

// Has reports whether n is on.
func (s Set) Has(n Name) bool { return n == Logs || slices.Contains(s.on, n) }

// List is the stored form: the optional features that are on, in table order (nil for logs only).
func (s Set) List() []string {
	var out []string
	for _, n := range s.on {
		out = append(out, string(n))
	}
	return out
}

// Flag is the --features value that gives this set ("" for logs only).
func (s Set) Flag() string { return strings.Join(s.List(), ",") }

// String names every feature that is on, logs included.
func (s Set) String() string { return Join(append([]Name{Logs}, s.on...)) }

// Features returns the rows of the features that are on, logs first.
func (s Set) Features() []Feature {
	var out []Feature
	for _, f := range All() {
		if s.Has(f.Name) {
			out = append(out, f)
		}
	}
	return out
}

// Scopes are the scopes a service app requests for the set: nothing a feature that is off needs.
func (s Set) Scopes() []string {
	var out []string
	for _, f := range s.Features() {
		for _, sc := range f.Scopes {
			if !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	return out
}

// NeededBy returns the features of the set that need scope (none: no enabled feature uses it).
func (s Set) NeededBy(scope string) []Name {
	var out []Name
	for _, f := range s.Features() {
		if slices.Contains(f.Scopes, scope) {
			out = append(out, f.Name)
		}
	}
	return out
}

func index(n Name) int {
	return slices.IndexFunc(table, func(f Feature) bool { return f.Name == n })
}

// Join names features for messages: "inventory, response".
func Join(ns []Name) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = string(n)
	}
	return strings.Join(s, ", ")
}

// Grant says what to grant in the Okta admin console so that the feature's calls are allowed: the
// scopes and the role for a service app; the role alone for an API token, which carries its
// admin's permissions and no scopes.
func (f Feature) Grant(serviceApp bool) string {
	if serviceApp {
		return fmt.Sprintf("grant %s to the service app (Applications > Applications > the app > Okta API Scopes) and assign it %s (the app's Admin roles tab)",
			strings.Join(f.Scopes, ", "), f.Role)
	}
	return fmt.Sprintf("give the API token's admin %s (Security > Administrators)", f.Role)
}
