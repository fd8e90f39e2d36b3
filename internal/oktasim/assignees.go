package oktasim

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// handleRoleAssignees serves GET /api/v1/iam/assignees/users: the users holding at least one
// admin role (standard or custom), in directory order, paged with after/limit (at most 100) and,
// as Okta's IAM listings do, the next page's link in the body's _links.next.
func (s *Server) handleRoleAssignees(w http.ResponseWriter, r *http.Request) {
	s.users.mu.RLock()
	var admins []User
	for _, e := range s.users.list {
		if len(e.user.AdminRoles) > 0 || len(e.user.Permissions) > 0 {
			admins = append(admins, e.user)
		}
	}
	s.users.mu.RUnlock()
	v := r.URL.Query()
	limit := 100
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil || n < 1 {
			writeAPIError(w, errValidation("limit", "must be a positive integer, got "+strconv.Quote(l)))
			return
		}
		limit = min(n, 100)
	}
	start := 0
	if after := v.Get("after"); after != "" {
		i := slices.IndexFunc(admins, func(u User) bool { return u.ID == after })
		if i < 0 {
			writeAPIError(w, errValidation("after", "the cursor does not name an assignee; follow the next link verbatim"))
			return
		}
		start = i + 1
	}
	end := min(start+limit, len(admins))
	base := s.baseURL(r)
	value := []map[string]any{}
	for _, u := range admins[start:end] {
		value = append(value, map[string]any{"id": u.ID, "orn": "orn:okta:directory:" + s.orgID + ":users:" + u.ID,
			"_links": map[string]any{"self": map[string]any{"href": base + "/api/v1/users/" + u.ID},
				"roles": map[string]any{"href": base + "/api/v1/users/" + u.ID + "/roles"}}})
	}
	links := map[string]any{"self": map[string]any{"href": base + r.URL.RequestURI()}}
	if end < len(admins) {
		nv := url.Values{"after": {admins[end-1].ID}, "limit": {strconv.Itoa(limit)}}
		links["next"] = map[string]any{"href": base + r.URL.Path + "?" + nv.Encode()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": value, "_links": links})
}
