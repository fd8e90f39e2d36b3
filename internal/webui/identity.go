package webui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/inventory"
	"github.com/idwatch/idwatch/internal/server"
)

const routeInventoryUser = "/api/v1/inventory/users/{integration}/{user}"

// identityCard is the inventory's card of the first user an alert names, nil when the inventory
// does not know one (not synced yet, or the alert is about an address).
func (b *Backend) identityCard(ctx context.Context, integration string, entities []string) *console.IdentityCard {
	if integration == "" {
		return nil
	}
	for _, e := range entities {
		login, ok := strings.CutPrefix(e, "user:")
		if !ok {
			continue
		}
		var id inventory.Identity
		if _, err := b.o.Server.Invoke(ctx, system, http.MethodGet, routeInventoryUser, map[string]string{"integration": integration, "user": login}, nil, &id); err != nil {
			continue // an id the inventory does not know; the next entity may be the login
		}
		return cardOf(id)
	}
	return nil
}

// cardOf is the console's card of an inventory identity.
func cardOf(id inventory.Identity) *console.IdentityCard {
	c := &console.IdentityCard{Login: id.Login, DisplayName: id.DisplayName, Status: id.Status}
	for _, r := range id.Roles {
		c.AdminRoles = append(c.AdminRoles, firstOf(r.Label, r.Type))
	}
	for _, f := range id.Factors {
		c.Factors = append(c.Factors, strings.TrimSpace(f.Type+" ("+strings.ToLower(f.Status)+")"))
	}
	if len(c.Factors) == 0 && id.FactorStrength != "unknown" {
		c.Factors = []string{id.FactorStrength}
	}
	if id.ADLinked {
		c.ADLink = id.ObjectSid + " · " + id.DistinguishedName
	}
	return c
}

// Identities implements console.Backend over the API's inventory list.
func (b *Backend) Identities(ctx context.Context, q console.IdentityQuery) (console.IdentityPage, error) {
	v := url.Values{"limit": {strconv.Itoa(min(max(q.Limit, 1), 1000))}}
	if q.Integration != "" {
		v.Set("integration", q.Integration)
	}
	if q.Admins {
		v.Set("admins", "true")
	}
	if q.Unlinked {
		v.Set("unlinked", "true")
	}
	if q.Text != "" {
		v.Set("q", q.Text)
	}
	var out server.InventoryUserList
	if _, err := b.o.Server.InvokeQuery(ctx, system, http.MethodGet, "/api/v1/inventory/users", nil, v, nil, &out); err != nil {
		return console.IdentityPage{}, userErr(err)
	}
	names := b.integrationNames(ctx)
	page := console.IdentityPage{Total: out.Total}
	for _, id := range out.Users {
		card := cardOf(id)
		page.Rows = append(page.Rows, console.IdentityRow{Integration: names[id.IntegrationID], Login: id.Login, DisplayName: id.DisplayName,
			Status: id.Status, AdminRoles: card.AdminRoles, SuperAdmin: id.SuperAdmin, ADLinked: id.ADLinked, ObjectSid: id.ObjectSid,
			DN: id.DistinguishedName, FactorStrength: id.FactorStrength, Groups: len(id.Groups)})
	}
	return page, nil
}

// severityRank orders findings most severe first.
var severityRank = map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3, "informational": 4}

// Posture implements console.Backend over the API's posture findings.
func (b *Backend) Posture(ctx context.Context) ([]console.PostureRow, error) {
	var out struct {
		Findings []server.PostureView `json:"findings"`
	}
	if _, err := b.o.Server.Invoke(ctx, system, http.MethodGet, "/api/v1/posture", nil, nil, &out); err != nil {
		return nil, userErr(err)
	}
	rows := make([]console.PostureRow, 0, len(out.Findings))
	for _, f := range out.Findings {
		rows = append(rows, console.PostureRow{Integration: f.Integration, Severity: f.Severity, Title: f.Title, Accounts: f.Accounts,
			Why: f.Why, Fix: f.Fix, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen})
	}
	slices.SortStableFunc(rows, func(x, y console.PostureRow) int { return severityRank[x.Severity] - severityRank[y.Severity] })
	return rows, nil
}
