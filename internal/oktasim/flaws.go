package oktasim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Flaw is an identity posture weakness a scenario org can carry, so that each posture finding
// has an org that triggers it. An org without flaws triggers none.
type Flaw string

// The flaws oktasim can plant.
const (
	// FlawDormantAdmin: an admin who has not signed in for 95 days.
	FlawDormantAdmin Flaw = "dormant-admin"
	// FlawWeakAdminMFA: an admin enrolled only in SMS, voice call and email.
	FlawWeakAdminMFA Flaw = "weak-admin-mfa"
	// FlawNoPhishingResistantAdmin: an admin with push and TOTP but no FIDO2/WebAuthn factor.
	FlawNoPhishingResistantAdmin Flaw = "admin-without-phishing-resistant-factor"
	// FlawManySuperAdmins: every admin the generator made Super Admin stays one (without the
	// flaw, at most cleanSuperAdmins do; the rest become Organization Administrators).
	FlawManySuperAdmins Flaw = "many-super-admins"
	// FlawGroupRole: the org's largest department group holds the Group Administrator role.
	FlawGroupRole Flaw = "role-granted-to-large-group"
	// FlawMissingADLink: some AD-sourced users lack the ObjectSid/ObjectGuid/DistinguishedName
	// values (a broken attribute mapping).
	FlawMissingADLink Flaw = "missing-ad-link"
)

// AllFlaws lists every flaw in the order FlawsForSeed's bits use.
var AllFlaws = []Flaw{FlawDormantAdmin, FlawWeakAdminMFA, FlawNoPhishingResistantAdmin, FlawManySuperAdmins,
	FlawGroupRole, FlawMissingADLink}

// cleanSuperAdmins is how many Super Admins a flawless org keeps.
const cleanSuperAdmins = 3

// manySuperAdmins is how many Super Admins the many-super-admins flaw makes at least.
const manySuperAdmins = 8

// FlawsForSeed derives an org's flaws from its seed: bit i of seed mod 2^len(AllFlaws) plants
// AllFlaws[i]. Seeds that are multiples of 64 (0 included) give a clean org; 63 gives every flaw.
func FlawsForSeed(seed int64) []Flaw {
	bits := uint64(seed) % (1 << len(AllFlaws))
	var out []Flaw
	for i, f := range AllFlaws {
		if bits&(1<<i) != 0 {
			out = append(out, f)
		}
	}
	return out
}

// ParseFlaws reads a comma-separated list of flaw names.
func ParseFlaws(s string) ([]Flaw, error) {
	var out []Flaw
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !slices.Contains(AllFlaws, Flaw(p)) {
			return nil, fmt.Errorf("unknown flaw %q; known flaws: %s", p, joinFlaws(AllFlaws))
		}
		out = append(out, Flaw(p))
	}
	return out, nil
}

func joinFlaws(fs []Flaw) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

// applyUserFlaws rewrites users (in place) to carry the flaws; now is the org's present.
func applyUserFlaws(users []User, flaws []Flaw, now time.Time) {
	var admins []int
	for i, u := range users {
		if len(u.AdminRoles) > 0 && u.Status == StatusActive {
			admins = append(admins, i)
		}
	}
	if slices.Contains(flaws, FlawManySuperAdmins) {
		// Every admin beyond the flawed ones below becomes a Super Admin too, up to manySuperAdmins.
		n := 0
		for _, i := range admins {
			if slices.Contains(users[i].AdminRoles, RoleSuperAdmin) {
				n++
			}
		}
		for k := len(admins) - 1; k >= 3 && n < manySuperAdmins; k-- {
			if u := &users[admins[k]]; !slices.Contains(u.AdminRoles, RoleSuperAdmin) {
				u.AdminRoles = []Role{RoleSuperAdmin}
				n++
			}
		}
	} else {
		kept := 0
		for _, i := range admins {
			for j, r := range users[i].AdminRoles {
				if r != RoleSuperAdmin {
					continue
				}
				if kept++; kept > cleanSuperAdmins {
					users[i].AdminRoles = slices.Clone(users[i].AdminRoles)
					users[i].AdminRoles[j] = RoleOrgAdmin
				}
			}
		}
	}
	// The flawed admins are picked among those who are not Super Admins, so the Super Admin
	// count is the same with or without them.
	var plain []int
	for _, i := range admins {
		if !slices.Contains(users[i].AdminRoles, RoleSuperAdmin) {
			plain = append(plain, i)
		}
	}
	pick := func(n int) (*User, bool) {
		if n >= len(plain) {
			return nil, false
		}
		return &users[plain[n]], true
	}
	if u, ok := pick(0); ok && slices.Contains(flaws, FlawDormantAdmin) {
		u.LastLogin = now.Add(-95 * 24 * time.Hour)
	}
	if u, ok := pick(1); ok && slices.Contains(flaws, FlawWeakAdminMFA) {
		at := u.Activated
		u.Factors = []Factor{
			{ID: stableID("mbf", 17, u.ID, "sms"), FactorType: "sms", Provider: "OKTA", VendorName: "OKTA", Status: "ACTIVE", Created: at, LastUpdated: at},
			{ID: stableID("clf", 17, u.ID, "call"), FactorType: "call", Provider: "OKTA", VendorName: "OKTA", Status: "ACTIVE", Created: at, LastUpdated: at},
			{ID: stableID("emf", 17, u.ID, "email"), FactorType: "email", Provider: "OKTA", VendorName: "OKTA", Status: "ACTIVE", Created: at, LastUpdated: at},
		}
	}
	if u, ok := pick(2); ok && slices.Contains(flaws, FlawNoPhishingResistantAdmin) {
		at := u.Activated
		u.Factors = []Factor{
			{ID: stableID("opf", 17, u.ID, "push"), FactorType: "push", Provider: "OKTA", VendorName: "OKTA", Status: "ACTIVE", Created: at, LastUpdated: at},
			{ID: stableID("ostf", 16, u.ID, "totp"), FactorType: "token:software:totp", Provider: "OKTA", VendorName: "OKTA", Status: "ACTIVE", Created: at, LastUpdated: at},
		}
	}
	if slices.Contains(flaws, FlawMissingADLink) {
		n := 0
		for i := range users {
			if _, linked := users[i].Profile["ObjectSid"]; !linked || users[i].ProviderType != "ACTIVE_DIRECTORY" {
				continue
			}
			if n%25 == 0 {
				p := make(map[string]any, len(users[i].Profile))
				for k, v := range users[i].Profile {
					p[k] = v
				}
				delete(p, "ObjectSid")
				delete(p, "ObjectGuid")
				delete(p, "DistinguishedName")
				users[i].Profile = p
			}
			n++
		}
	}
}

// applyGroupFlaws gives the largest group that is not an admin group a role when the flaws ask.
func applyGroupFlaws(groups []Group, users []User, flaws []Flaw) {
	if !slices.Contains(flaws, FlawGroupRole) {
		return
	}
	size := map[string]int{}
	for _, u := range users {
		for _, g := range u.GroupIDs {
			size[g]++
		}
	}
	best := -1
	for i, g := range groups {
		if g.Type == "BUILT_IN" || strings.Contains(strings.ToLower(g.Name), "admin") {
			continue
		}
		if best < 0 || size[g.ID] > size[groups[best].ID] {
			best = i
		}
	}
	if best >= 0 {
		groups[best].Roles = append(slices.Clone(groups[best].Roles), RoleUserAdmin)
	}
}
