package inventory

import (
	"context"
	"slices"

	"github.com/idwatch/idwatch/internal/posture"
	"github.com/idwatch/idwatch/internal/store"
)

// Identity is what enrichment attaches to an OCSF record's actor or target: the user's status,
// admin roles (direct and through groups), AD link, groups and factor strength.
type Identity struct {
	IntegrationID int64  `json:"integrationId"`
	UserID        string `json:"userId"`
	Login         string `json:"login"`
	Email         string `json:"email,omitempty"`
	DisplayName   string `json:"displayName,omitempty"`
	Status        string `json:"status"`
	// IsAdmin is true when the user holds any admin role; SuperAdmin when one is SUPER_ADMIN.
	IsAdmin    bool                   `json:"isAdmin"`
	SuperAdmin bool                   `json:"superAdmin"`
	Roles      []store.RoleAssignment `json:"roles,omitempty"`
	// ObjectSid, ObjectGuid and DistinguishedName are the AD link (OCSF user.uid_alt,
	// user.ldap_person.ldap_dn); ADLinked says all three are present.
	ObjectSid         string `json:"objectSid,omitempty"`
	ObjectGuid        string `json:"objectGuid,omitempty"`
	DistinguishedName string `json:"distinguishedName,omitempty"`
	ADLinked          bool   `json:"adLinked"`
	// Groups are the names of the user's groups.
	Groups []string `json:"groups,omitempty"`
	// FactorStrength is phishing-resistant, strong, weak, none, or unknown (factors not fetched:
	// they are read for admins and for users whose factors changed).
	FactorStrength string                 `json:"factorStrength"`
	Factors        []store.IdentityFactor `json:"factors,omitempty"`
	ProviderType   string                 `json:"providerType,omitempty"`
}

// Lookup resolves users against the stored inventory.
type Lookup struct {
	Store store.Inventory
}

// Lookup finds a user by id or login in an integration's stored inventory; ok is false when the
// user is unknown or the integration has no inventory. It reads the store on every call (for the
// CLI); enrichment of a stream uses Service.Lookup, which answers from memory.
func (l *Lookup) Lookup(ctx context.Context, integrationID int64, userIDOrLogin string) (Identity, bool) {
	u, err := l.Store.InventoryUser(ctx, integrationID, userIDOrLogin)
	if err != nil {
		return Identity{}, false
	}
	snap, err := l.Store.LoadInventory(ctx, integrationID)
	if err != nil {
		return Identity{}, false
	}
	return IdentityOf(&snap, u), true
}

// IdentityOf builds u's Identity from its integration's snapshot (for the groups and the roles
// inherited from them).
func IdentityOf(snap *store.InventorySnapshot, u store.InventoryUser) Identity {
	return identityFrom(snap.Sync.IntegrationID, u, groupsOfUser(snap, u.ID))
}

// identityFrom builds u's Identity given the groups it belongs to.
func identityFrom(integrationID int64, u store.InventoryUser, groups []store.InventoryGroup) Identity {
	id := Identity{IntegrationID: integrationID, UserID: u.ID, Login: u.Login, Email: u.Email, DisplayName: u.DisplayName,
		Status: u.Status, Roles: slices.Clone(u.Roles), ObjectSid: u.ObjectSid, ObjectGuid: u.ObjectGuid,
		DistinguishedName: u.DistinguishedName, ADLinked: u.ObjectSid != "" && u.ObjectGuid != "" && u.DistinguishedName != "",
		Factors: u.Factors, ProviderType: u.ProviderType, FactorStrength: "unknown"}
	for _, g := range groups {
		id.Groups = append(id.Groups, g.Name)
		for _, r := range g.Roles {
			r.GroupID, r.AssignmentType = g.ID, "GROUP"
			id.Roles = append(id.Roles, r)
		}
	}
	slices.Sort(id.Groups)
	id.IsAdmin = len(id.Roles) > 0
	id.SuperAdmin = posture.HasRole(id.Roles, "SUPER_ADMIN")
	if u.FactorsKnown {
		id.FactorStrength = posture.FactorStrength(u.Factors)
	}
	return id
}
