package posture

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// Kinds of findings.
const (
	KindDormantPrivileged     = "dormant-privileged-account"
	KindAdminWeakMFA          = "admin-weak-mfa"
	KindAdminNoPhishResistant = "admin-without-phishing-resistant-factor"
	KindTooManySuperAdmins    = "too-many-super-admins"
	KindRoleToLargeGroup      = "admin-role-granted-to-large-group"
	KindTokenInactiveOwner    = "api-token-of-inactive-user"
	KindMissingADLink         = "missing-ad-link"
	KindConnectorOverPriv     = "connector-over-privileged"
)

// Severities, as OCSF names them.
const (
	SeverityHigh   = "high"
	SeverityMedium = "medium"
	SeverityLow    = "low"
)

// weakFactors are the factor types phishable over a phone line or mailbox.
var weakFactors = []string{"sms", "call", "email", "question"}

// PhishingResistant reports whether a factor type resists phishing: FIDO2/WebAuthn, U2F and
// Okta FastPass (signed_nonce).
func PhishingResistant(factorType string) bool {
	switch factorType {
	case "webauthn", "u2f", "signed_nonce":
		return true
	}
	return false
}

// FactorStrength rates a set of active factors: "phishing-resistant", "strong" (push/TOTP),
// "weak" (only SMS, voice, email) or "none".
func FactorStrength(fs []store.IdentityFactor) string {
	best := "none"
	for _, f := range fs {
		if f.Status != "" && f.Status != "ACTIVE" {
			continue
		}
		switch {
		case PhishingResistant(f.Type):
			return "phishing-resistant"
		case slices.Contains(weakFactors, f.Type):
			if best == "none" {
				best = "weak"
			}
		default:
			best = "strong"
		}
	}
	return best
}

// EffectiveRoles maps each user id to its admin roles: direct assignments and those inherited
// from the groups it belongs to (GroupID set).
func EffectiveRoles(snap *store.InventorySnapshot) map[string][]store.RoleAssignment {
	out := map[string][]store.RoleAssignment{}
	for _, u := range snap.Users {
		if len(u.Roles) > 0 {
			out[u.ID] = append(out[u.ID], u.Roles...)
		}
	}
	for _, g := range snap.Groups {
		if len(g.Roles) == 0 {
			continue
		}
		for _, m := range g.Members {
			for _, r := range g.Roles {
				r.GroupID, r.AssignmentType = g.ID, "GROUP"
				out[m] = append(out[m], r)
			}
		}
	}
	return out
}

// HasRole reports whether roles include the role type.
func HasRole(roles []store.RoleAssignment, typ string) bool {
	return slices.ContainsFunc(roles, func(r store.RoleAssignment) bool { return r.Type == typ })
}

// Evaluate computes the findings of one integration's inventory at now. Findings carry
// FirstSeen = LastSeen = now; the store keeps FirstSeen of findings it already knows.
func Evaluate(snap *store.InventorySnapshot, cfg Config, now time.Time) []store.PostureFinding {
	cfg = cfg.WithDefaults()
	roles := EffectiveRoles(snap)
	byID := make(map[string]*store.InventoryUser, len(snap.Users))
	for i := range snap.Users {
		byID[snap.Users[i].ID] = &snap.Users[i]
	}
	connector := snap.Sync.Connector.UserID
	var out []store.PostureFinding
	add := func(kind, sev, title string, accounts []string, why, fix string) {
		if len(accounts) == 0 {
			return
		}
		slices.Sort(accounts)
		out = append(out, store.PostureFinding{ID: kind, Kind: kind, Severity: sev, Title: title, Accounts: accounts,
			Why: why, Fix: fix, FirstSeen: now, LastSeen: now})
	}
	name := func(u *store.InventoryUser) string {
		if u.Login != "" {
			return u.Login
		}
		return u.ID
	}

	var dormant, weak, noPR, supers []string
	for _, u := range snap.Users {
		rs := roles[u.ID]
		if len(rs) == 0 || u.Status == "DEPROVISIONED" {
			continue
		}
		active := u.Status != "SUSPENDED"
		if active && HasRole(rs, "SUPER_ADMIN") {
			supers = append(supers, name(&u))
		}
		if u.ID == connector {
			continue // the connector signs in with a token, never interactively
		}
		last := u.LastLogin
		if last.IsZero() {
			last = u.Created
		}
		if active && !last.IsZero() && now.Sub(last) > time.Duration(cfg.DormantDays)*24*time.Hour {
			dormant = append(dormant, name(&u))
		}
		if !u.FactorsKnown || !active {
			continue
		}
		switch FactorStrength(u.Factors) {
		case "weak", "none":
			weak = append(weak, name(&u))
		case "strong":
			noPR = append(noPR, name(&u))
		}
	}
	add(KindDormantPrivileged, SeverityHigh, fmt.Sprintf("Privileged accounts unused for more than %d days", cfg.DormantDays), dormant,
		"An admin account nobody uses still carries its privileges; if its password or session is stolen, the misuse goes unnoticed because nobody expects activity from it.",
		"Admin Console > Security > Administrators: remove the role from each account (or Directory > People > the user > Deactivate if it is no longer needed). Review admin assignments quarterly.")
	add(KindAdminWeakMFA, SeverityHigh, "Admins with only SMS, voice or email factors (or none)", weak,
		"SMS, voice and email codes can be phished, intercepted or SIM-swapped; an admin protected only by them is one phishing page away from an org takeover.",
		"Directory > People > the admin > Reset Authenticators, then have the admin enroll Okta FastPass or a FIDO2 security key; require them in an authentication policy for the Okta Admin Console (Security > Authentication Policies > Okta Admin Console: phishing-resistant).")
	add(KindAdminNoPhishResistant, SeverityMedium, "Admins without a phishing-resistant factor", noPR,
		"Push and one-time codes can be relayed by an adversary-in-the-middle proxy or approved under push fatigue; Okta recommends phishing-resistant authenticators for every admin.",
		"Have each admin enroll a FIDO2/WebAuthn security key or Okta FastPass, then set the Okta Admin Console authentication policy to require phishing-resistant possession (Security > Authentication Policies > Okta Admin Console).")
	if len(supers) > cfg.MaxSuperAdmins {
		add(KindTooManySuperAdmins, SeverityMedium, fmt.Sprintf("%d Super Admins (more than %d)", len(supers), cfg.MaxSuperAdmins), supers,
			"Every Super Admin can change any setting, disable MFA and create other admins; each extra one widens the set of accounts whose compromise means full control of the org.",
			"Security > Administrators: keep two or three Super Admins (break-glass included) and give the others the narrowest standard or custom role that covers their work (Organization, Group, Help Desk or Read-Only Administrator).")
	}

	var bigGroups []string
	sevGroup := SeverityMedium
	for _, g := range snap.Groups {
		if len(g.Roles) > 0 && len(g.Members) > cfg.LargeGroupMembers {
			var types []string
			for _, r := range g.Roles {
				types = append(types, r.Type)
				if r.Type == "SUPER_ADMIN" || r.Type == "ORG_ADMIN" {
					sevGroup = SeverityHigh
				}
			}
			bigGroups = append(bigGroups, fmt.Sprintf("%s (%d members: %s)", g.Name, len(g.Members), strings.Join(types, ", ")))
		}
	}
	add(KindRoleToLargeGroup, sevGroup, fmt.Sprintf("Admin roles granted to groups of more than %d members", cfg.LargeGroupMembers), bigGroups,
		"Every member of the group is an admin, often without knowing it; whoever can change the group's membership (or the directory that masters it) can hand out the role.",
		"Security > Administrators > Roles/Admins: remove the group assignment and assign the role to a small dedicated admin group, or to named users; protect that group from membership changes by non-admins.")

	if snap.Sync.TokensVisible {
		var orphan []string
		for _, t := range snap.Sync.APITokens {
			if u := byID[t.UserID]; u != nil && (u.Status == "SUSPENDED" || u.Status == "DEPROVISIONED" || u.Status == "LOCKED_OUT") {
				orphan = append(orphan, fmt.Sprintf("%s (token %s, owner %s)", t.Name, t.ID, u.Status))
			}
		}
		add(KindTokenInactiveOwner, SeverityHigh, "API tokens owned by suspended or deactivated users", orphan,
			"An SSWS token keeps its owner's admin privileges; a token whose owner has left is unowned, rarely rotated and still valid until revoked or unused for 30 days.",
			"Security > API > Tokens: revoke each listed token and recreate it under an active service account, or move the integration to an OAuth service app.")
	}

	if cfg.ExpectADLink != ExpectNone {
		var missing []string
		for _, u := range snap.Users {
			if u.Status == "DEPROVISIONED" || u.ID == connector {
				continue
			}
			if cfg.ExpectADLink == ExpectADSourced && u.ProviderType != "ACTIVE_DIRECTORY" {
				continue
			}
			if u.ObjectSid == "" || u.ObjectGuid == "" || u.DistinguishedName == "" {
				missing = append(missing, name(&u))
			}
		}
		add(KindMissingADLink, SeverityLow, "Users without the AD link attributes", missing,
			"Without ObjectSid, ObjectGuid and DistinguishedName the user's Okta activity cannot be joined with Windows and AD events in the SIEM, and a compromise seen on one side is missed on the other.",
			"Directory > Profile Editor > the Active Directory app's user profile: map objectSid, objectGUID and distinguishedName to the Okta user attributes (Mappings), then re-import the users (Directory > Directory Integrations > Active Directory > Import).")
	}

	if c := snap.Sync.Connector; HasRole(c.Roles, "SUPER_ADMIN") || HasRole(c.Roles, "ORG_ADMIN") {
		who := c.Login
		if who == "" {
			who = c.UserID
		}
		if who == "" {
			who = "service app " + c.ClientID
		}
		var types []string
		for _, r := range c.Roles {
			types = append(types, r.Type)
		}
		add(KindConnectorOverPriv, SeverityHigh, "The connector's account holds more than it needs", []string{who + " (" + strings.Join(types, ", ") + ")"},
			"idwatch needs Read-Only Administrator plus a custom role for response; a Super or Organization Administrator credential stored in a connector turns a leak of that credential into full control of the org.",
			"Security > Administrators: assign the connector Read-Only Administrator and the custom role from docs/identity.md (resource set: all users), then remove Super/Organization Administrator.")
	}
	return out
}
