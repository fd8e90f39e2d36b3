package oktasim

import (
	"hash/fnv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Group is an Okta group: OKTA_GROUP, APP_GROUP (e.g. imported from AD) or BUILT_IN.
type Group struct {
	ID, Name, Description, Type string
	Created, LastUpdated        time.Time
	LastMembershipUpdated       time.Time
	// Roles are admin roles assigned to the group; every member holds them (assignmentType GROUP).
	Roles []Role
}

// App is an application instance in the org.
type App struct {
	ID, Name, Label, SignOnMode string
	Status                      string // ACTIVE or INACTIVE
	Created, LastUpdated        time.Time
}

// Factor is an MFA factor a user enrolled.
type Factor struct {
	ID, FactorType, Provider, VendorName string
	Status                               string // ACTIVE, PENDING_ACTIVATION, ...
	Created, LastUpdated                 time.Time
}

// Directory is an optional part of a World: the org's groups and apps.
type Directory interface {
	Groups() []Group
	Apps() []App
}

// directory holds the org's groups and apps. It is safe for concurrent use.
type directory struct {
	mu     sync.RWMutex
	groups []Group
	apps   []App
}

// SetDirectory replaces the org's groups and apps; users name their groups in User.GroupIDs.
func (s *Server) SetDirectory(groups []Group, apps []App) {
	s.dir.mu.Lock()
	defer s.dir.mu.Unlock()
	s.dir.groups, s.dir.apps = slices.Clone(groups), slices.Clone(apps)
}

// registerDirectory mounts the read endpoints of the directory.
func (s *Server) registerDirectory() {
	s.HandleAPI(http.MethodGet, "/api/v1/users/{id}", PermUsersRead, s.handleGetUser)
	s.HandleAPI(http.MethodGet, "/api/v1/users/{id}/groups", PermUsersRead, s.handleUserGroups)
	s.HandleAPI(http.MethodGet, "/api/v1/users/{id}/roles", PermRolesRead, s.handleUserRoles)
	s.HandleAPI(http.MethodGet, "/api/v1/users/{id}/factors", PermFactorsRead, s.handleUserFactors)
	s.HandleAPI(http.MethodGet, "/api/v1/groups", PermGroupsRead, s.handleListGroups)
	s.HandleAPI(http.MethodGet, "/api/v1/groups/{id}/users", PermGroupsRead, s.handleGroupUsers)
	s.HandleAPI(http.MethodGet, "/api/v1/apps", PermAppsRead, s.handleListApps)
	s.HandleAPI(http.MethodGet, "/api/v1/meta/schemas/user/{schemaId}", PermSchemasRead, s.handleUserSchema)
	s.registerAssignments()
}

// findUser looks a user up by id or (case-insensitively) login, as Okta's user paths accept both.
func (st *userStore) findUser(idOrLogin string) (User, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if e, ok := st.byID[idOrLogin]; ok {
		return e.user, true
	}
	for _, e := range st.list {
		if l, _ := e.user.Profile["login"].(string); strings.EqualFold(l, idOrLogin) {
			return e.user, true
		}
	}
	return User{}, false
}

// userOr404 returns the path's user or writes Okta's 404.
func (s *Server) userOr404(w http.ResponseWriter, r *http.Request) (User, bool) {
	u, ok := s.users.findUser(r.PathValue("id"))
	if !ok {
		writeAPIError(w, errNotFound("User"))
	}
	return u, ok
}

func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) {
	if u, ok := s.userOr404(w, r); ok {
		writeJSON(w, http.StatusOK, u.object(s.baseURL(r)))
	}
}

// groupJSON renders a group as Okta's groups API does.
func groupJSON(g Group, base string) map[string]any {
	class := "okta:user_group"
	if g.Type == "APP_GROUP" {
		class = "okta:windows_security_principal"
	}
	self := base + "/api/v1/groups/" + g.ID
	return map[string]any{"id": g.ID, "created": oktaTime(g.Created), "lastUpdated": oktaTime(g.LastUpdated),
		"lastMembershipUpdated": oktaTime(g.LastMembershipUpdated), "objectClass": []string{class}, "type": g.Type,
		"profile": map[string]any{"name": g.Name, "description": g.Description},
		"_links": map[string]any{"logo": []any{}, "users": map[string]any{"href": self + "/users"},
			"apps": map[string]any{"href": self + "/apps"}}}
}

func (s *Server) handleUserGroups(w http.ResponseWriter, r *http.Request) {
	u, ok := s.userOr404(w, r)
	if !ok {
		return
	}
	base := s.baseURL(r)
	s.dir.mu.RLock()
	defer s.dir.mu.RUnlock()
	out := []map[string]any{}
	for _, g := range s.dir.groups {
		if slices.Contains(u.GroupIDs, g.ID) {
			out = append(out, groupJSON(g, base))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// roleLabels are the display names of the standard roles.
var roleLabels = map[Role]string{RoleSuperAdmin: "Super Administrator", RoleOrgAdmin: "Organizational Administrator",
	RoleAppAdmin: "Application Administrator", RoleUserAdmin: "Group Administrator", RoleHelpDeskAdmin: "Help Desk Administrator",
	RoleReadOnlyAdmin: "Read Only Administrator", RoleReportAdmin: "Report Administrator",
	RoleGroupMembership: "Group Membership Administrator", RoleMobileAdmin: "Mobile Administrator",
	RoleAPIAccessAdmin: "API Access Management Administrator"}

// stableID derives a fixed-length id with prefix from parts, so role assignments keep their ids.
func stableID(prefix string, n int, parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	v := h.Sum64()
	b := make([]byte, n)
	for i := range b {
		b[i] = idAlphabet[v%uint64(len(idAlphabet))]
		v = v/uint64(len(idAlphabet)) + uint64(i)*0x9e3779b97f4a7c15
	}
	return prefix + string(b)
}

// userRoles renders a user's role assignments.
func userRoles(u User, base string) []map[string]any {
	return roleAssignments(u.ID, u.AdminRoles, u.Permissions, u.Created, "USER", base+"/api/v1/users/"+u.ID, base)
}

// roleAssignments renders the role assignments of a user or service app (assignmentType USER or
// CLIENT); custom-role permissions become one CUSTOM role bound to a resource set of all users.
func roleAssignments(id string, roles []Role, perms []Permission, created time.Time, kind, assigneeHref, base string) []map[string]any {
	assignee := map[string]any{"href": assigneeHref}
	out := []map[string]any{}
	for _, role := range roles {
		out = append(out, map[string]any{"id": stableID("ra", 18, id, string(role)), "label": roleLabels[role],
			"type": string(role), "status": "ACTIVE", "created": oktaTime(created), "lastUpdated": oktaTime(created),
			"assignmentType": kind, "_links": map[string]any{"assignee": assignee}})
	}
	if len(perms) > 0 {
		cr, rs := customRoleIDOf(perms), resourceSetID(User{})
		out = append(out, map[string]any{"id": stableID("irb", 17, id, "custom"), "label": customRoleLabel,
			"type": "CUSTOM", "status": "ACTIVE", "created": oktaTime(created), "lastUpdated": oktaTime(created),
			"assignmentType": kind, "role": cr, "resource-set": rs,
			"_links": map[string]any{"assignee": assignee,
				"role":         map[string]any{"href": base + "/api/v1/iam/roles/" + cr},
				"resource-set": map[string]any{"href": base + "/api/v1/iam/resource-sets/" + rs},
				"permissions":  map[string]any{"href": base + "/api/v1/iam/roles/" + cr + "/permissions"},
				"member":       map[string]any{"href": base + "/api/v1/iam/resource-sets/" + rs + "/bindings/" + cr + "/members/" + id}}})
	}
	return out
}

// customRoleLabel names the custom role the product's docs ask admins to create.
const customRoleLabel = "idwatch response"

func customRoleID(u User) string { return customRoleIDOf(u.Permissions) }
func customRoleIDOf(perms []Permission) string {
	return stableID("cr0", 17, "role", strings.Join(permStrings(perms), ","))
}
func resourceSetID(u User) string { return stableID("iam", 17, "resource-set", "users") }
func permStrings(p []Permission) []string {
	out := make([]string, len(p))
	for i, v := range p {
		out[i] = string(v)
	}
	return out
}

func (s *Server) handleUserRoles(w http.ResponseWriter, r *http.Request) {
	if u, ok := s.userOr404(w, r); ok {
		base := s.baseURL(r)
		writeJSON(w, http.StatusOK, append(userRoles(u, base), s.inheritedRoles(u, base)...))
	}
}

func (s *Server) handleUserFactors(w http.ResponseWriter, r *http.Request) {
	u, ok := s.userOr404(w, r)
	if !ok {
		return
	}
	base := s.baseURL(r)
	out := []map[string]any{}
	for _, f := range u.Factors {
		out = append(out, map[string]any{"id": f.ID, "factorType": f.FactorType, "provider": f.Provider,
			"vendorName": f.VendorName, "status": f.Status, "created": oktaTime(f.Created), "lastUpdated": oktaTime(f.LastUpdated),
			"profile": map[string]any{},
			"_links":  map[string]any{"self": map[string]any{"href": base + "/api/v1/users/" + u.ID + "/factors/" + f.ID}}})
	}
	writeJSON(w, http.StatusOK, out)
}

// pageOf cuts one page of items after the "after" cursor and writes the Link headers. ok is
// false when it has written an error.
func pageOf[T any](w http.ResponseWriter, r *http.Request, base string, items []T, id func(T) string, defLimit, maxLimit int) ([]T, bool) {
	v := r.URL.Query()
	limit := defLimit
	if l, ok := v["limit"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(l[0]))
		if err != nil || n < 1 {
			writeAPIError(w, errValidation("limit", "must be a positive integer, got "+strconv.Quote(l[0])))
			return nil, false
		}
		limit = min(n, maxLimit)
	}
	start := 0
	if after := v.Get("after"); after != "" {
		i := slices.IndexFunc(items, func(it T) bool { return id(it) == after })
		if i < 0 {
			writeAPIError(w, errValidation("after", "the cursor does not name an object in this result; follow the next link verbatim"))
			return nil, false
		}
		start = i + 1
	}
	end := min(start+limit, len(items))
	self := base + r.URL.Path
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	w.Header().Add("Link", "<"+self+`>; rel="self"`)
	if end < len(items) {
		nv := url.Values{}
		for k, vals := range v {
			nv[k] = vals
		}
		nv.Set("after", id(items[end-1]))
		nv.Set("limit", strconv.Itoa(limit))
		w.Header().Add("Link", "<"+base+r.URL.Path+"?"+nv.Encode()+`>; rel="next"`)
	}
	return items[start:end], true
}
