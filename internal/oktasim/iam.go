package oktasim

import (
	"net/http"
	"slices"
)

// customRolePermission names a permission the way Okta's custom-role API does. oktasim's
// Permission values are OAuth scope names; the lifecycle, session and authenticator permissions
// the product's docs ask for have their own names in the role permission catalog.
func customRolePermission(p Permission) string {
	switch p {
	case PermUsersManage:
		return "okta.users.lifecycle.manage"
	case PermSessionsManage:
		return "okta.users.lifecycle.clearSessions"
	case PermFactorsManage:
		return "okta.users.credentials.manage"
	}
	return string(p)
}

// customRoles collects the org's custom roles (one per distinct permission set) and the admins
// holding each, in directory order.
func (s *Server) customRoles() []User {
	s.users.mu.RLock()
	defer s.users.mu.RUnlock()
	var out []User
	for _, e := range s.users.list {
		if len(e.user.Permissions) > 0 && !slices.ContainsFunc(out, func(u User) bool { return customRoleID(u) == customRoleID(e.user) }) {
			out = append(out, e.user)
		}
	}
	return out
}

func customRoleJSON(u User, base string) map[string]any {
	id := customRoleID(u)
	self := base + "/api/v1/iam/roles/" + id
	return map[string]any{"id": id, "label": customRoleLabel, "description": "Edit users' lifecycle states and authenticator operations",
		"created": oktaTime(u.Created), "lastUpdated": oktaTime(u.Created),
		"_links": map[string]any{"self": map[string]any{"href": self}, "permissions": map[string]any{"href": self + "/permissions"}}}
}

func resourceSetJSON(u User, base string) map[string]any {
	id := resourceSetID(u)
	self := base + "/api/v1/iam/resource-sets/" + id
	return map[string]any{"id": id, "label": "All users", "description": "Every user of the org",
		"created": oktaTime(u.Created), "lastUpdated": oktaTime(u.Created),
		"_links": map[string]any{"self": map[string]any{"href": self}, "resources": map[string]any{"href": self + "/resources"},
			"bindings": map[string]any{"href": self + "/bindings"}}}
}

// registerIAM mounts the read side of Okta's custom role and resource set APIs.
func (s *Server) registerIAM() {
	s.HandleAPI(http.MethodGet, "/api/v1/iam/roles", PermRolesRead, func(w http.ResponseWriter, r *http.Request) {
		base := s.baseURL(r)
		roles := []map[string]any{}
		for _, u := range s.customRoles() {
			roles = append(roles, customRoleJSON(u, base))
		}
		writeJSON(w, http.StatusOK, map[string]any{"roles": roles, "_links": map[string]any{}})
	})
	s.HandleAPI(http.MethodGet, "/api/v1/iam/roles/{id}", PermRolesRead, func(w http.ResponseWriter, r *http.Request) {
		if u, ok := s.customRole(w, r); ok {
			writeJSON(w, http.StatusOK, customRoleJSON(u, s.baseURL(r)))
		}
	})
	s.HandleAPI(http.MethodGet, "/api/v1/iam/roles/{id}/permissions", PermRolesRead, func(w http.ResponseWriter, r *http.Request) {
		u, ok := s.customRole(w, r)
		if !ok {
			return
		}
		self := s.baseURL(r) + "/api/v1/iam/roles/" + customRoleID(u)
		perms := []map[string]any{}
		for _, p := range u.Permissions {
			name := customRolePermission(p)
			perms = append(perms, map[string]any{"label": name, "created": oktaTime(u.Created), "lastUpdated": oktaTime(u.Created),
				"_links": map[string]any{"role": map[string]any{"href": self}, "self": map[string]any{"href": self + "/permissions/" + name}}})
		}
		writeJSON(w, http.StatusOK, map[string]any{"permissions": perms})
	})
	s.HandleAPI(http.MethodGet, "/api/v1/iam/resource-sets", PermRolesRead, func(w http.ResponseWriter, r *http.Request) {
		sets := []map[string]any{}
		if roles := s.customRoles(); len(roles) > 0 {
			sets = append(sets, resourceSetJSON(roles[0], s.baseURL(r)))
		}
		writeJSON(w, http.StatusOK, map[string]any{"resource-sets": sets, "_links": map[string]any{}})
	})
	s.HandleAPI(http.MethodGet, "/api/v1/iam/resource-sets/{id}", PermRolesRead, func(w http.ResponseWriter, r *http.Request) {
		for _, u := range s.customRoles() {
			if resourceSetID(u) == r.PathValue("id") {
				writeJSON(w, http.StatusOK, resourceSetJSON(u, s.baseURL(r)))
				return
			}
		}
		writeAPIError(w, errNotFound("ResourceSet"))
	})
}

// customRole finds the path's custom role by id or label, or writes Okta's 404.
func (s *Server) customRole(w http.ResponseWriter, r *http.Request) (User, bool) {
	id := r.PathValue("id")
	for _, u := range s.customRoles() {
		if customRoleID(u) == id || id == customRoleLabel {
			return u, true
		}
	}
	writeAPIError(w, errNotFound("Role"))
	return User{}, false
}
