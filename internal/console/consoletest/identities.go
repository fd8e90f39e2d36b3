package consoletest

import (
	"context"
	"strings"

	"github.com/idwatch/idwatch/internal/console"
)

// Identities implements console.Backend with a small directory: an AD-linked super admin, a
// cloud-only user and a service account.
func (b *Backend) Identities(ctx context.Context, q console.IdentityQuery) (console.IdentityPage, error) {
	all := []console.IdentityRow{
		{Integration: "acme-prod", Login: "svc-sync@acme.com", DisplayName: "Directory sync (service)", Status: "ACTIVE", AdminRoles: []string{"Super Administrator"},
			SuperAdmin: true, ADLinked: true, ObjectSid: "S-1-5-21-1004336348-1177238915-682003330-1104", DN: "CN=svc-sync,OU=Service,DC=acme,DC=local", FactorStrength: "none"},
		{Integration: "acme-prod", Login: "dana.ruiz@acme.com", DisplayName: "Dana Ruiz", Status: "ACTIVE", ADLinked: true,
			ObjectSid: "S-1-5-21-1004336348-1177238915-682003330-2231", DN: "CN=Dana Ruiz,OU=Staff,DC=acme,DC=local", FactorStrength: "strong", Groups: 4},
		{Integration: "acme-prod", Login: "contractor7@acme.com", DisplayName: "Contractor Seven", Status: "ACTIVE", FactorStrength: "weak", Groups: 1},
	}
	var page console.IdentityPage
	for _, r := range all {
		if q.Admins && len(r.AdminRoles) == 0 || q.Unlinked && r.ADLinked || q.Text != "" && !strings.Contains(r.Login+" "+r.DisplayName, q.Text) {
			continue
		}
		page.Rows = append(page.Rows, r)
	}
	page.Total = len(page.Rows)
	return page, nil
}

// Posture implements console.Backend.
func (b *Backend) Posture(ctx context.Context) ([]console.PostureRow, error) {
	now := b.Now()
	return []console.PostureRow{
		{Integration: "acme-prod", Severity: "high", Title: "Admins without a phishing-resistant factor", Accounts: []string{"svc-sync@acme.com"},
			Why:       "An admin whose only factors can be phished or pushed is one approved prompt away from a takeover of the org.",
			Fix:       "Security › Authenticators: enrol Okta FastPass or a FIDO2 key, then require it for the Admin Console in Security › Authentication Policies.",
			FirstSeen: now.Add(-72 * 3600e9), LastSeen: now},
		{Integration: "acme-prod", Severity: "low", Title: "Okta users without an AD link", Accounts: []string{"contractor7@acme.com"},
			Why:       "Without ObjectSid a SIEM cannot join this user's Okta activity with Windows events.",
			Fix:       "Directory › Profile Editor › Active Directory: map objectSid, objectGUID and distinguishedName to the Okta user profile.",
			FirstSeen: now.Add(-72 * 3600e9), LastSeen: now},
	}, nil
}
