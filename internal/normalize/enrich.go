package normalize

import (
	"github.com/idwatch/idwatch/internal/event"
)

// Identity is what an identity inventory knows about an Okta user, as enrichment attaches it to
// the OCSF user objects of a record (actor.user and user) and as rules read it (actor.isAdmin …).
type Identity struct {
	// UserID is the Okta user id.
	UserID string
	// Status is Okta's user status (ACTIVE, SUSPENDED, DEPROVISIONED, LOCKED_OUT, …).
	Status string
	// IsAdmin is true when the user holds any admin role, directly or through a group.
	IsAdmin bool
	// Roles are the admin role types held (SUPER_ADMIN, ORG_ADMIN, CUSTOM, …), sorted.
	Roles []string
	// ADSid, ADGuid and ADDN are the AD link: objectSid, objectGUID and distinguishedName.
	ADSid, ADGuid, ADDN string
	// Groups are the names of the user's Okta groups, sorted.
	Groups []string
	// FactorStrength is phishing-resistant, strong, weak, none, or unknown (factors not read).
	FactorStrength string
}

// Enricher resolves an Okta user id or login to what the inventory knows of it. It must be a
// pure in-memory lookup (normalize does no I/O) and answer the same for the same inventory, so
// that a record is a function of its event and the inventory at processing time.
type Enricher interface {
	EnrichUser(userIDOrLogin string) (Identity, bool)
}

// enrichUser attaches what e knows about u (an Okta user: type User) to u; u keeps its Okta
// fields, and a user the inventory does not know is left exactly as mapped.
func enrichUser(e Enricher, u *User) {
	if u == nil || u.Type != "User" {
		return
	}
	id, ok := Identity{}, false
	if u.UID != "" {
		id, ok = e.EnrichUser(u.UID)
	}
	if !ok && u.Name != "" && u.Name != "unknown" {
		id, ok = e.EnrichUser(u.Name)
	}
	if !ok {
		return
	}
	info := id
	u.Info = &info
	if id.IsAdmin {
		u.TypeID, u.Type = 2, "Admin"
	}
	u.UIDAlt = id.ADSid
	u.LDAPDN = id.ADDN
	u.Groups = id.Groups
	switch id.FactorStrength {
	case "phishing-resistant", "strong":
		u.HasMFA = &boolTrue
	case "weak", "none":
		u.HasMFA = &boolFalse
	}
	acct := &Account{UID: id.ADGuid}
	if id.ADGuid != "" {
		acct.TypeID, acct.Type = 1, "LDAP Account"
	}
	switch id.Status {
	case "SUSPENDED", "DEPROVISIONED":
		acct.IsDisabled = &boolTrue
	case "LOCKED_OUT":
		acct.IsLocked = &boolTrue
	}
	if id.Status != "" {
		acct.Labels = append(acct.Labels, "status:"+id.Status)
	}
	for _, r := range id.Roles {
		acct.Labels = append(acct.Labels, "role:"+r)
	}
	if id.FactorStrength != "" {
		acct.Labels = append(acct.Labels, "factor_strength:"+id.FactorStrength)
	}
	if acct.UID != "" || len(acct.Labels) > 0 {
		// OCSF account needs a name or uid; the Okta user id names the Okta account.
		if acct.UID == "" {
			acct.Name = u.Name
		}
		u.Account = acct
	}
}

var (
	boolTrue  = true
	boolFalse = false
)

// Account is OCSF account: the user's AD account (uid: the objectGUID) with the inventory's
// status, roles and factor strength as labels.
type Account struct {
	UID        string
	Name       string
	TypeID     int
	Type       string
	IsDisabled *bool
	IsLocked   *bool
	Labels     []string
}

// appendEnrichment writes the members enrichment adds to a user object (none for a user the
// inventory does not know).
func (u *User) appendEnrichment(w *event.JSONWriter) {
	w.Str("uid_alt", u.UIDAlt)
	w.Bool("has_mfa", u.HasMFA)
	if len(u.Groups) > 0 {
		w.Array("groups", len(u.Groups), func(i int) {
			w.Open()
			w.Str("name", u.Groups[i])
			w.Close()
		})
	}
	if u.LDAPDN != "" {
		w.Key("ldap_person")
		w.Open()
		w.Str("ldap_dn", u.LDAPDN)
		w.Close()
	}
	if a := u.Account; a != nil {
		w.Key("account")
		w.Open()
		w.Str("uid", a.UID)
		w.Str("name", a.Name)
		if a.TypeID != 0 {
			w.Int("type_id", int64(a.TypeID))
			w.Str("type", a.Type)
		}
		w.Bool("is_disabled", a.IsDisabled)
		w.Bool("is_locked", a.IsLocked)
		if len(a.Labels) > 0 {
			writeStrings(w, "labels", a.Labels)
		}
		w.Close()
	}
}

// ActorIdentity is what the inventory knows about the record's actor, nil when nothing.
func (r *Record) ActorIdentity() *Identity {
	if a := r.OCSF.Actor; a != nil && a.User != nil {
		return a.User.Info
	}
	return nil
}

// TargetIdentity is what the inventory knows about the record's subject user (OCSF user: the
// first User target), nil when nothing.
func (r *Record) TargetIdentity() *Identity {
	if r.OCSF.User != nil {
		return r.OCSF.User.Info
	}
	return nil
}

// AppendUserJSON appends the OCSF encoding of u (for findings that carry a record's users).
func AppendUserJSON(b []byte, u *User) []byte {
	w := event.JSONWriter{B: b}
	u.appendJSON(&w)
	return w.B
}

// IdentityUser is the OCSF user object of an identity record (User Inventory Info): the Okta user
// uid, login and display name, with what the inventory knows of it as enrichment adds it.
func IdentityUser(uid, login, displayName string, id Identity) *User {
	u := userOf(new(User), uid, "User", login, displayName)
	enrichUser(oneIdentity{id}, u)
	return u
}

// oneIdentity answers every lookup with one identity.
type oneIdentity struct{ id Identity }

func (o oneIdentity) EnrichUser(string) (Identity, bool) { return o.id, true }
