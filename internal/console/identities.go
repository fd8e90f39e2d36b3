package console

import (
	"net/http"
	"strings"
	"time"
)

// IdentityQuery filters the identities page.
type IdentityQuery struct {
	Integration string
	Admins      bool
	Unlinked    bool // only users without the AD link
	Text        string
	Limit       int
}

// IdentityRow is one user of the identity inventory.
type IdentityRow struct {
	Integration    string
	Login          string
	DisplayName    string
	Status         string
	AdminRoles     []string
	SuperAdmin     bool
	ADLinked       bool
	ObjectSid      string
	DN             string
	FactorStrength string
	Groups         int
}

// IdentityPage is a page of identities and how many matched.
type IdentityPage struct {
	Rows  []IdentityRow
	Total int
}

// PostureRow is one posture finding.
type PostureRow struct {
	Integration string
	Severity    string
	Title       string
	Accounts    []string
	Why         string
	Fix         string
	FirstSeen   time.Time
	LastSeen    time.Time
}

func (c *console) routeIdentities(mux *http.ServeMux) {
	mux.Handle("GET /identities", c.need(RoleViewer, c.identitiesPage))
	mux.Handle("GET /posture", c.need(RoleViewer, c.posturePage))
}

// identitiesView is the identities page.
type identitiesView struct {
	Q    IdentityQuery
	Page IdentityPage
}

func (c *console) identitiesPage(w http.ResponseWriter, r *http.Request, p Principal) {
	qv := r.URL.Query()
	q := IdentityQuery{Integration: strings.TrimSpace(qv.Get("integration")), Admins: qv.Get("admins") == "on", Unlinked: qv.Get("unlinked") == "on",
		Text: strings.TrimSpace(qv.Get("q")), Limit: 500}
	page, err := c.b.Identities(r.Context(), q)
	if err != nil {
		c.backendError(w, r, p, "Listing identities", err)
		return
	}
	c.render(w, r, http.StatusOK, "identities", "", view{Title: "Identities", Nav: "identities", P: p, Data: identitiesView{Q: q, Page: page}})
}

func (c *console) posturePage(w http.ResponseWriter, r *http.Request, p Principal) {
	rows, err := c.b.Posture(r.Context())
	if err != nil {
		c.backendError(w, r, p, "Posture", err)
		return
	}
	c.render(w, r, http.StatusOK, "posture", "", view{Title: "Posture", Nav: "posture", P: p, Data: rows})
}
