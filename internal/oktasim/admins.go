package oktasim

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// AddAdmin adds u to the directory as an administrator and issues an SSWS API token that acts as
// it, carrying u.AdminRoles and u.Permissions (the custom role), so the token's admin can be read
// back through /api/v1/users/me and /api/v1/users/{id}/roles as in a real org. Missing fields get
// defaults: a generated 00u… id, ACTIVE, an Okta-sourced profile with login admin.<id>@oktasim.local.
// The admin survives later SetUsers calls. tokenName names the token (default "idwatch").
func (s *Server) AddAdmin(u User, tokenName string) (User, APIToken, string, error) {
	if apiErr := checkGrants(u.AdminRoles, u.Permissions); apiErr != nil {
		return User{}, APIToken{}, "", errors.New(apiErr.ErrorCauses[0].ErrorSummary)
	}
	u = adminDefaults(u, s.clock.Now())
	if tokenName == "" {
		tokenName = "idwatch"
	}
	s.adminsMu.Lock()
	defer s.adminsMu.Unlock()
	st := s.users
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, dup := st.byID[u.ID]; dup {
		return User{}, APIToken{}, "", fmt.Errorf("user id %s is already in the directory", u.ID)
	}
	e, err := newUserEntry(s.prepareUser(u))
	if err != nil {
		return User{}, APIToken{}, "", err
	}
	st.list = append(st.list, e)
	st.byID[u.ID] = e
	for k := range e.user.Profile {
		st.profile[k] = true
	}
	s.admins = append(s.admins, u)
	info, secret := s.ssws.Add(APIToken{Name: tokenName, AdminID: u.ID, Roles: slices.Clone(u.AdminRoles),
		Permissions: slices.Clone(u.Permissions)})
	return e.user, info, secret, nil
}

// adminDefaults fills what an admin user needs to look like one of Okta's.
func adminDefaults(u User, now time.Time) User {
	if u.ID == "" {
		u.ID = "00u" + randomID(17)
	}
	if u.Status == "" {
		u.Status = StatusActive
	}
	if u.Created.IsZero() {
		at := now.Add(-30 * 24 * time.Hour)
		u.Created, u.Activated, u.StatusChanged, u.LastUpdated, u.PasswordChanged = at, at, at, at, at
	}
	if u.TypeID == "" {
		u.TypeID = "oty" + randomID(17)
	}
	if u.ProviderType == "" {
		u.ProviderType, u.ProviderName = "OKTA", "OKTA"
	}
	if u.Profile == nil {
		login := "admin." + u.ID + "@oktasim.local"
		u.Profile = map[string]any{"login": login, "email": login, "firstName": "Admin", "lastName": u.ID}
	}
	return u
}

// registerSelf mounts the "me" alias and the admin roles of service apps.
func (s *Server) registerSelf() {
	s.HandleAPI(http.MethodGet, "/api/v1/users/me", PermAuthenticated, s.handleGetMe)
	s.HandleAPI(http.MethodGet, "/oauth2/v1/clients/{clientId}/roles", PermRolesRead, s.handleClientRoles)
}

// handleGetMe serves GET /api/v1/users/me: the user an SSWS token acts as. Reading oneself needs
// no admin permission. A service app's access token carries no user, so Okta finds no "me"
// user: 404 E0000007.
func (s *Server) handleGetMe(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	u, ok := s.users.findUser(p.AdminID)
	if p.Kind != PrincipalToken || p.AdminID == "" || !ok {
		writeAPIError(w, errNotFound("Resource not found: me (User)"))
		return
	}
	writeJSON(w, http.StatusOK, u.object(s.baseURL(r)))
}

// AppRoleSource is implemented by authenticators that know the admin roles assigned to service
// apps; GET /oauth2/v1/clients/{clientId}/roles reads them. ok is false for an unknown client.
type AppRoleSource interface {
	AppRoles(clientID string) (roles []Role, perms []Permission, ok bool)
}

// handleClientRoles serves GET /oauth2/v1/clients/{clientId}/roles: the admin roles assigned to
// a service app, shaped like a user's role assignments with assignmentType CLIENT.
func (s *Server) handleClientRoles(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("clientId")
	s.mu.Lock()
	authn := slices.Clone(s.authn)
	s.mu.Unlock()
	for _, a := range authn {
		src, isSource := a.(AppRoleSource)
		if !isSource {
			continue
		}
		if roles, perms, ok := src.AppRoles(id); ok {
			base := s.baseURL(r)
			writeJSON(w, http.StatusOK, roleAssignments(id, roles, perms, s.created, "CLIENT", base+"/oauth2/v1/clients/"+id, base))
			return
		}
	}
	writeAPIError(w, errNotFound("Resource not found: "+id+" (Client)"))
}
