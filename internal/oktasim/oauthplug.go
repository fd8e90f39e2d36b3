package oktasim

import (
	"errors"
	"net/http"

	"github.com/idwatch/idwatch/internal/oktasim/oauth"
)

// OAuthAuthenticator lets service apps call the API with access tokens of the org authorization
// server (package oauth), Bearer or DPoP-bound, with the errors and challenges that server writes.
type OAuthAuthenticator struct {
	AS *oauth.Server
	// Roles returns the admin roles and custom-role permissions assigned to an app; Okta requires
	// a role besides the scopes. Nil gives apps no roles.
	Roles func(clientID string) ([]Role, []Permission)
}

// oauthAuthError carries an authorization server error to the response it writes itself.
type oauthAuthError struct {
	as  *oauth.Server
	err error
}

func (e oauthAuthError) Error() string { return e.err.Error() }

// WriteAuthError implements AuthErrorResponder.
func (e oauthAuthError) WriteAuthError(w http.ResponseWriter, r *http.Request) {
	e.as.WriteError(w, r, e.err)
}

// Authenticate implements Authenticator.
func (a *OAuthAuthenticator) Authenticate(r *http.Request) (Principal, error) {
	op, err := a.AS.Authenticate(r)
	if errors.Is(err, oauth.ErrNoToken) {
		return Principal{}, ErrNoCredentials
	}
	if err != nil {
		return Principal{}, oauthAuthError{as: a.AS, err: err}
	}
	p := Principal{ID: op.ClientID, Kind: PrincipalApp, Scopes: op.Scopes, ShareKey: op.RateKey, authDetail: op}
	if a.Roles != nil {
		p.Roles, p.Permissions = a.Roles(op.ClientID)
	}
	return p, nil
}

// WriteScopeError implements ScopeErrorWriter: Okta's 403 insufficient_scope challenge.
func (a *OAuthAuthenticator) WriteScopeError(w http.ResponseWriter, r *http.Request, p Principal, perm Permission) {
	op, _ := p.authDetail.(oauth.Principal)
	a.AS.WriteError(w, r, oauth.RequireScope(op, OAuthScope(perm)))
}

// AppRoles implements AppRoleSource for the apps the authorization server knows.
func (a *OAuthAuthenticator) AppRoles(clientID string) ([]Role, []Permission, bool) {
	if _, ok := a.AS.App(clientID); !ok {
		return nil, nil, false
	}
	if a.Roles == nil {
		return nil, nil, true
	}
	roles, perms := a.Roles(clientID)
	return roles, perms, true
}
