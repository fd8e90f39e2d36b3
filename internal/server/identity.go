package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/idwatch/idwatch/internal/inventory"
	"github.com/idwatch/idwatch/internal/store"
)

// identityRoutes are the identity inventory (users with their admin roles, AD link and
// factors), its posture findings, and a manual full sync.
func (s *Server) identityRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/inventory/users", Role: store.RoleViewer, OperationID: "listInventoryUsers", Handler: s.listInventoryUsers},
		{Method: "GET", Pattern: "/api/v1/inventory/users/{integration}/{user}", Role: store.RoleViewer, OperationID: "getInventoryUser", Handler: s.getInventoryUser},
		{Method: "GET", Pattern: "/api/v1/posture", Role: store.RoleViewer, OperationID: "listPosture", Handler: s.listPosture},
		{Method: "POST", Pattern: "/api/v1/integrations/{name}/inventory/sync", Role: store.RoleAdmin, OperationID: "syncInventory", Handler: s.syncInventory},
	}
}

// InventoryUserList is the body of GET /api/v1/inventory/users.
type InventoryUserList struct {
	Users []inventory.Identity `json:"users"`
	// Total counts the users the filters matched (Users holds at most limit of them).
	Total int `json:"total"`
}

func (s *Server) listInventoryUsers(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(r, "integration", "admins", "unlinked", "status", "q", "limit")
	if err != nil {
		return err
	}
	admins := p.oneOf("admins", "false", "true", "false") == "true"
	unlinked := p.oneOf("unlinked", "false", "true", "false") == "true"
	status, q := strings.ToUpper(p.str("status")), strings.ToLower(p.str("q"))
	limit := p.intIn("limit", 100, 1, 1000)
	if p.err != nil {
		return p.err
	}
	ids, err := s.integrationIDs(r.Context(), p.list("integration"))
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		names, err := s.integrationNames(r.Context())
		if err != nil {
			return err
		}
		for id := range names {
			ids = append(ids, id)
		}
	}
	out := InventoryUserList{Users: []inventory.Identity{}}
	for _, id := range ids {
		snap, err := s.st.LoadInventory(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		for _, u := range snap.Users {
			ident := inventory.IdentityOf(&snap, u)
			switch {
			case admins && !ident.IsAdmin, unlinked && ident.ADLinked, status != "" && ident.Status != status,
				q != "" && !strings.Contains(strings.ToLower(ident.Login+" "+ident.DisplayName+" "+ident.Email), q):
				continue
			}
			out.Total++
			if len(out.Users) < limit {
				out.Users = append(out.Users, ident)
			}
		}
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getInventoryUser(w http.ResponseWriter, r *http.Request) error {
	ids, err := s.integrationIDs(r.Context(), []string{r.PathValue("integration")})
	if err != nil {
		var re *RequestError
		if errors.As(err, &re) {
			re.Status, re.Body.Code = http.StatusNotFound, CodeNotFound
		}
		return err
	}
	l := inventory.Lookup{Store: s.st}
	ident, ok := l.Lookup(r.Context(), ids[0], r.PathValue("user"))
	if !ok {
		return Fail(http.StatusNotFound, CodeNotFound, fmt.Sprintf("no user %q in the inventory of %s", r.PathValue("user"), r.PathValue("integration")),
			"check the login or Okta id; a user created since the last sync appears within one processing cycle of its event", "user")
	}
	WriteJSON(w, http.StatusOK, ident)
	return nil
}

// postureList is the body of GET /api/v1/posture.
type postureList struct {
	Findings []PostureView `json:"findings"`
}

// PostureView is a posture finding with its integration.
type PostureView struct {
	store.PostureFinding
	Integration string `json:"integration"`
}

func (s *Server) listPosture(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(r, "integration")
	if err != nil {
		return err
	}
	ids, err := s.integrationIDs(r.Context(), p.list("integration"))
	if err != nil {
		return err
	}
	names, err := s.integrationNames(r.Context())
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		for id := range names {
			ids = append(ids, id)
		}
	}
	out := postureList{Findings: []PostureView{}}
	for _, id := range ids {
		fs, err := s.st.Posture(r.Context(), id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		for _, f := range fs {
			out.Findings = append(out.Findings, PostureView{PostureFinding: f, Integration: names[id]})
		}
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// InventorySyncer runs a full inventory sync of one integration now.
type InventorySyncer func(ctx context.Context, integrationID int64) (store.InventorySync, error)

func (s *Server) syncInventory(w http.ResponseWriter, r *http.Request) error {
	in, err := s.named(r)
	if err != nil {
		return err
	}
	if s.syncer == nil {
		return Fail(http.StatusServiceUnavailable, CodeUnavailable, "the inventory does not run in this process",
			"run idwatch serve (it syncs every integration daily and on change), or idwatch inventory sync --integration "+in.Name, "")
	}
	sync, err := s.syncer(r.Context(), in.ID)
	if err != nil {
		return Fail(http.StatusBadGateway, CodeUnavailable, "the sync failed: "+err.Error(),
			"check the integration's health and its okta.users.read, okta.groups.read and okta.roles.read scopes (POST /api/v1/integrations/"+in.Name+"/verify)", "")
	}
	WriteJSON(w, http.StatusOK, sync)
	return nil
}
