package oktasim

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Paging of the role assignee listing.
const (
	assigneesDefaultLimit = 100
	assigneesMaxLimit     = 100
)

// registerAssignments mounts the group role, role assignee and API token listings.
func (s *Server) registerAssignments() {
	s.HandleAPI(http.MethodGet, "/api/v1/groups/{id}", PermGroupsRead, s.handleGetGroup)
	s.HandleAPI(http.MethodGet, "/api/v1/groups/{id}/roles", PermRolesRead, s.handleGroupRoles)
	s.HandleAPI(http.MethodGet, "/api/v1/iam/assignees/users", PermRolesRead, s.handleAssigneeUsers)
	s.HandleAPI(http.MethodGet, "/api/v1/api-tokens", PermAPITokensRead, s.handleListAPITokens)
}

// groupByID returns a copy of the group with the id.
func (s *Server) groupByID(id string) (Group, bool) {
	s.dir.mu.RLock()
	defer s.dir.mu.RUnlock()
	i := slices.IndexFunc(s.dir.groups, func(g Group) bool { return g.ID == id })
	if i < 0 {
		return Group{}, false
	}
	return s.dir.groups[i], true
}

// groupRoles renders a group's role assignments (assignmentType GROUP, assignee the group).
func groupRoles(g Group, base string) []map[string]any {
	return roleAssignments(g.ID, g.Roles, nil, g.Created, "GROUP", base+"/api/v1/groups/"+g.ID, base)
}

// inheritedRoles are the roles u holds through its groups, as GET /users/{id}/roles lists them.
func (s *Server) inheritedRoles(u User, base string) []map[string]any {
	s.dir.mu.RLock()
	defer s.dir.mu.RUnlock()
	var out []map[string]any
	for _, g := range s.dir.groups {
		if len(g.Roles) > 0 && slices.Contains(u.GroupIDs, g.ID) {
			out = append(out, groupRoles(g, base)...)
		}
	}
	return out
}

func (s *Server) handleGetGroup(w http.ResponseWriter, r *http.Request) {
	g, ok := s.groupByID(r.PathValue("id"))
	if !ok {
		writeAPIError(w, errNotFound("Group"))
		return
	}
	writeJSON(w, http.StatusOK, groupJSON(g, s.baseURL(r)))
}

func (s *Server) handleGroupRoles(w http.ResponseWriter, r *http.Request) {
	g, ok := s.groupByID(r.PathValue("id"))
	if !ok {
		writeAPIError(w, errNotFound("Group"))
		return
	}
	writeJSON(w, http.StatusOK, orEmpty(groupRoles(g, s.baseURL(r))))
}

// handleAssigneeUsers serves GET /api/v1/iam/assignees/users: the users holding a direct role
// assignment (standard or custom), paged through _links.next in the body.
func (s *Server) handleAssigneeUsers(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	limit := assigneesDefaultLimit
	if l, ok := v["limit"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(l[0]))
		if err != nil || n < 1 {
			writeAPIError(w, errValidation("limit", "must be a positive integer, got "+strconv.Quote(l[0])))
			return
		}
		limit = min(n, assigneesMaxLimit)
	}
	var ids []string
	s.users.mu.RLock()
	for _, e := range s.users.list {
		if len(e.user.AdminRoles) > 0 || len(e.user.Permissions) > 0 {
			ids = append(ids, e.user.ID)
		}
	}
	s.users.mu.RUnlock()
	start := 0
	if after := v.Get("after"); after != "" {
		i := slices.Index(ids, after)
		if i < 0 {
			writeAPIError(w, errValidation("after", "the cursor does not name an assignee; follow the next link verbatim"))
			return
		}
		start = i + 1
	}
	end := min(start+limit, len(ids))
	base := s.baseURL(r)
	value := []map[string]any{}
	for _, id := range ids[start:end] {
		value = append(value, map[string]any{"id": id, "orn": "orn:okta:directory:" + s.orgID + ":users:" + id,
			"_links": map[string]any{"self": map[string]any{"href": base + "/api/v1/users/" + id},
				"roles": map[string]any{"href": base + "/api/v1/users/" + id + "/roles"}}})
	}
	links := map[string]any{}
	if end < len(ids) {
		nv := url.Values{"after": {ids[end-1]}, "limit": {strconv.Itoa(limit)}}
		links["next"] = map[string]any{"href": base + r.URL.Path + "?" + nv.Encode()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": value, "_links": links})
}

// handleListAPITokens serves GET /api/v1/api-tokens: the metadata of the org's SSWS tokens, each
// naming the user it acts as (never the secret).
func (s *Server) handleListAPITokens(w http.ResponseWriter, r *http.Request) {
	base := s.baseURL(r)
	out := []map[string]any{}
	for _, t := range s.ssws.Tokens() {
		out = append(out, map[string]any{"id": t.ID, "name": t.Name, "userId": t.AdminID, "clientName": "Okta API",
			"created": oktaTime(s.created), "lastUpdated": oktaTime(s.created), "tokenWindow": "P30D",
			"network": map[string]any{"connection": "ANYWHERE"},
			"_links": map[string]any{"self": map[string]any{"href": base + "/api/v1/api-tokens/" + t.ID},
				"user": map[string]any{"href": base + "/api/v1/users/" + t.AdminID}}})
	}
	writeJSON(w, http.StatusOK, out)
}
