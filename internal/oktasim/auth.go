package oktasim

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Permission is what an endpoint requires. Its value is the OAuth scope Okta uses for the same
// access, so one name serves tokens (through admin roles) and service apps (through scopes).
type Permission string

// Permissions of the endpoints oktasim serves or will serve.
const (
	PermLogsRead         Permission = "okta.logs.read"
	PermUsersRead        Permission = "okta.users.read"
	PermUsersManage      Permission = "okta.users.manage"
	PermSessionsManage   Permission = "okta.sessions.manage"
	PermRolesRead        Permission = "okta.roles.read"
	PermRolesManage      Permission = "okta.roles.manage"
	PermSchemasRead      Permission = "okta.schemas.read"
	PermSchemasManage    Permission = "okta.schemas.manage"
	PermGroupsRead       Permission = "okta.groups.read"
	PermGroupsManage     Permission = "okta.groups.manage"
	PermAppsRead         Permission = "okta.apps.read"
	PermAppsManage       Permission = "okta.apps.manage"
	PermFactorsRead      Permission = "okta.factors.read"
	PermFactorsManage    Permission = "okta.factors.manage"
	PermEventHooksRead   Permission = "okta.eventHooks.read"
	PermEventHooksManage Permission = "okta.eventHooks.manage"
	PermAPITokensRead    Permission = "okta.apiTokens.read"
	PermAPITokensManage  Permission = "okta.apiTokens.manage"
	PermOrgsRead         Permission = "okta.orgs.read"
)

// PermAuthenticated marks an endpoint any authenticated principal may call (e.g. reading oneself).
const PermAuthenticated Permission = ""

var allPermissions = []Permission{PermLogsRead, PermUsersRead, PermUsersManage, PermSessionsManage,
	PermRolesRead, PermRolesManage, PermSchemasRead, PermSchemasManage, PermGroupsRead, PermGroupsManage,
	PermAppsRead, PermAppsManage, PermFactorsRead, PermFactorsManage, PermEventHooksRead,
	PermEventHooksManage, PermAPITokensRead, PermAPITokensManage, PermOrgsRead}

// Role is a standard Okta admin role type.
type Role string

// Standard admin roles.
const (
	RoleSuperAdmin      Role = "SUPER_ADMIN"
	RoleOrgAdmin        Role = "ORG_ADMIN"
	RoleAppAdmin        Role = "APP_ADMIN"
	RoleUserAdmin       Role = "USER_ADMIN"
	RoleHelpDeskAdmin   Role = "HELP_DESK_ADMIN"
	RoleReadOnlyAdmin   Role = "READ_ONLY_ADMIN"
	RoleReportAdmin     Role = "REPORT_ADMIN"
	RoleGroupMembership Role = "GROUP_MEMBERSHIP_ADMIN"
	RoleMobileAdmin     Role = "MOBILE_ADMIN"
	RoleAPIAccessAdmin  Role = "API_ACCESS_MANAGEMENT_ADMIN"
)

// RolePermissions returns what a standard role allows, modelled on Okta's role descriptions.
// ok is false for a role oktasim does not know.
func RolePermissions(r Role) (perms []Permission, ok bool) {
	switch r {
	case RoleSuperAdmin:
		return allPermissions, true
	case RoleOrgAdmin:
		return slices.DeleteFunc(slices.Clone(allPermissions), func(p Permission) bool { return p == PermRolesManage }), true
	case RoleReadOnlyAdmin:
		return slices.DeleteFunc(slices.Clone(allPermissions), func(p Permission) bool { return !strings.HasSuffix(string(p), ".read") }), true
	case RoleReportAdmin:
		return []Permission{PermLogsRead}, true
	case RoleUserAdmin:
		return []Permission{PermUsersRead, PermUsersManage, PermSessionsManage, PermGroupsRead, PermFactorsRead}, true
	case RoleHelpDeskAdmin:
		return []Permission{PermUsersRead, PermUsersManage, PermSessionsManage, PermGroupsRead, PermFactorsRead, PermFactorsManage}, true
	case RoleAppAdmin:
		return []Permission{PermAppsRead, PermAppsManage, PermUsersRead, PermGroupsRead}, true
	case RoleGroupMembership:
		return []Permission{PermGroupsRead, PermGroupsManage, PermUsersRead}, true
	case RoleMobileAdmin:
		return []Permission{PermUsersRead, PermFactorsRead}, true
	case RoleAPIAccessAdmin:
		return []Permission{PermAppsRead, PermAppsManage}, true
	}
	return nil, false
}

// PrincipalKind says how a principal authenticated.
type PrincipalKind string

// Principal kinds.
const (
	PrincipalToken PrincipalKind = "token" // an SSWS API token acting as its admin
	PrincipalApp   PrincipalKind = "app"   // an OAuth service app with an access token
)

// Principal is who made a request, as an Authenticator established it.
type Principal struct {
	ID   string        `json:"id"` // token id (00T…) or client id (0oa…)
	Kind PrincipalKind `json:"kind"`
	Name string        `json:"name,omitempty"`
	// AdminID is the user whose privileges a token carries.
	AdminID string `json:"adminId,omitempty"`
	// Roles are the admin roles of the token's admin or assigned to the app.
	Roles []Role `json:"roles,omitempty"`
	// Permissions are granted on top of Roles (Okta custom roles).
	Permissions []Permission `json:"permissions,omitempty"`
	// Scopes are the scopes of an app's access token; ignored for tokens.
	Scopes []string `json:"scopes,omitempty"`
	// ShareKey identifies the principal for the per-token/per-app share of a rate-limit bucket.
	ShareKey string `json:"shareKey"`

	// authDetail is the authenticator's own record of the principal.
	authDetail any
}

// Can reports whether the principal may do what perm guards. An app needs both the scope in its
// token (a .manage scope implies .read) and a role that allows it, as Okta checks both.
func (p Principal) Can(perm Permission) bool {
	if p.Kind == PrincipalApp && !scopeAllows(p.Scopes, perm) {
		return false
	}
	if slices.Contains(p.Permissions, perm) {
		return true
	}
	for _, r := range p.Roles {
		if perms, _ := RolePermissions(r); slices.Contains(perms, perm) {
			return true
		}
	}
	return false
}

// OAuthScope is the OAuth scope Okta's API asks of a service app for what perm guards: perm's own
// name, except where Okta's OpenAPI names the users scope (a user's factors are read with
// okta.users.read; clearing a user's sessions or deleting a factor takes okta.users.manage). The
// admin role check still uses perm.
func OAuthScope(perm Permission) string {
	switch perm {
	case PermFactorsRead:
		return string(PermUsersRead)
	case PermFactorsManage, PermSessionsManage:
		return string(PermUsersManage)
	}
	return string(perm)
}

func scopeAllows(scopes []string, perm Permission) bool {
	scope := OAuthScope(perm)
	if slices.Contains(scopes, scope) {
		return true
	}
	if base, ok := strings.CutSuffix(scope, ".read"); ok {
		return slices.Contains(scopes, base+".manage")
	}
	return false
}

// Authenticator establishes the principal of a request. Authenticate returns ErrNoCredentials
// when the request carries no credentials of the authenticator's kind, so the server can ask the
// next one. Any other error refuses the request: if it implements AuthErrorResponder it writes the
// response itself (DPoP's WWW-Authenticate challenges need that), otherwise the client gets 401
// E0000011.
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

// ErrNoCredentials is returned by an Authenticator that finds no credentials it handles.
var ErrNoCredentials = errors.New("no credentials of this kind in the request")

// AuthErrorResponder is an authentication error that writes its own HTTP response. The server has
// already set Date, X-Okta-Request-Id and the rate-limit headers.
type AuthErrorResponder interface {
	error
	WriteAuthError(w http.ResponseWriter, r *http.Request)
}

// ScopeErrorWriter is implemented by authenticators of scoped principals that answer a missing
// scope themselves (OAuth's insufficient_scope challenge) instead of with 403 E0000006.
type ScopeErrorWriter interface {
	WriteScopeError(w http.ResponseWriter, r *http.Request, p Principal, perm Permission)
}

type principalKey struct{}

// PrincipalFrom returns the principal of an authenticated request handled by the server.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// APIToken describes an SSWS token: an id like 00T…, a name, and the admin it acts as.
type APIToken struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	AdminID string `json:"adminId"`
	Roles   []Role `json:"roles"`
	// Permissions come from custom roles the admin holds on top of Roles.
	Permissions []Permission `json:"permissions,omitempty"`
}

// tokenTTL is how long an unused token stays valid; each use slides the window.
const tokenTTL = 30 * 24 * time.Hour

// SSWSAuthenticator checks "Authorization: SSWS <token>". Only a SHA-256 of each token is kept.
// It is safe for concurrent use.
type SSWSAuthenticator struct {
	clock  Clock
	mu     sync.Mutex
	tokens map[[32]byte]*tokenState
}

type tokenState struct {
	info     APIToken
	lastUsed time.Time
	revoked  bool
}

// NewSSWSAuthenticator returns an authenticator with no tokens.
func NewSSWSAuthenticator(clock Clock) *SSWSAuthenticator {
	return &SSWSAuthenticator{clock: clock, tokens: map[[32]byte]*tokenState{}}
}

// Add registers a token and returns its secret value. Missing ids are generated.
func (a *SSWSAuthenticator) Add(info APIToken) (APIToken, string) {
	if info.ID == "" {
		info.ID = "00T" + randomID(17)
	}
	secret := "00" + randomID(40)
	a.AddSecret(info, secret)
	return info, secret
}

// AddSecret registers a token with a given secret value.
func (a *SSWSAuthenticator) AddSecret(info APIToken, secret string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens[sha256.Sum256([]byte(secret))] = &tokenState{info: info, lastUsed: a.clock.Now()}
}

// Revoke makes every token with the given id invalid; it reports whether one existed.
func (a *SSWSAuthenticator) Revoke(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	found := false
	for _, t := range a.tokens {
		if t.info.ID == id {
			t.revoked, found = true, true
		}
	}
	return found
}

// Authenticate implements Authenticator.
func (a *SSWSAuthenticator) Authenticate(r *http.Request) (Principal, error) {
	scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "SSWS") {
		return Principal{}, ErrNoCredentials
	}
	now := a.clock.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.tokens[sha256.Sum256([]byte(strings.TrimSpace(secret)))]
	if !ok || t.revoked || now.Sub(t.lastUsed) > tokenTTL {
		return Principal{}, errInvalidToken()
	}
	t.lastUsed = now
	return Principal{ID: t.info.ID, Kind: PrincipalToken, Name: t.info.Name, AdminID: t.info.AdminID,
		Roles: slices.Clone(t.info.Roles), Permissions: slices.Clone(t.info.Permissions), ShareKey: "token:" + t.info.ID}, nil
}

// Tokens lists the metadata of the tokens that are not revoked, by id.
func (a *SSWSAuthenticator) Tokens() []APIToken {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []APIToken
	for _, t := range a.tokens {
		if !t.revoked {
			out = append(out, t.info)
		}
	}
	slices.SortFunc(out, func(x, y APIToken) int { return strings.Compare(x.ID, y.ID) })
	return out
}
