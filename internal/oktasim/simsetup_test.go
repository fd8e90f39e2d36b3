package oktasim

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/idwatch/idwatch/internal/okta"
)

func TestServiceAppRequiresDPoPAndHasDocumentedScopes(t *testing.T) {
	sim, _ := runningSim(t, nil)
	app, ok := sim.AuthServer.App(sim.Info.ServiceApp.ClientID)
	if !ok || !app.DPoPRequired {
		t.Fatalf("service app %+v does not require DPoP", app)
	}
	for _, sc := range []string{"okta.logs.read", "okta.users.read", "okta.roles.read", "okta.schemas.read", "okta.users.manage", "okta.sessions.manage"} {
		if !slices.Contains(sim.Info.ServiceApp.Scopes, sc) {
			t.Fatalf("info file scopes %v lack %s", sim.Info.ServiceApp.Scopes, sc)
		}
	}
	// A client that does not do DPoP is refused the way Okta refuses it.
	c, err := okta.New(okta.Config{OrgURL: sim.Info.OrgURL, Logger: discardLogger(), Retry: okta.RetryConfig{MaxRetries: -1},
		Credentials: okta.Credentials{ServiceApp: &okta.ServiceApp{ClientID: app.ClientID, KeyID: sim.Info.ServiceApp.KeyID,
			PrivateKey: okta.Secret(sim.Info.ServiceApp.PrivateKeyPEM), Scopes: []string{"okta.logs.read"}, DisableDPoP: true}}})
	if err != nil {
		t.Fatal(err)
	}
	var apiErr *okta.APIError
	if _, err := c.TokenScopes(context.Background()); !errors.As(err, &apiErr) || apiErr.OAuthError != "invalid_dpop_proof" {
		t.Fatalf("bearer token request: %v", err)
	}
	// The token's admin is set up as the docs say: Read-Only Administrator plus a custom role.
	roles := userRoles(sim.ServiceAdmin, sim.Info.OrgURL)
	if len(roles) != 2 || roles[0]["type"] != "READ_ONLY_ADMIN" || roles[1]["type"] != "CUSTOM" {
		t.Fatalf("admin roles %v", roles)
	}
	if code, _ := apiCall(t, sim, sim.Info.APIToken, http.MethodGet, "/api/v1/users/"+sim.ServiceAdmin.ID+"/roles", ""); code != 200 {
		t.Fatalf("token cannot read its admin's roles: %d", code)
	}
}

func TestWronglySetUpOrg(t *testing.T) {
	sim, _ := runningSim(t, func(c *SimConfig) {
		c.TokenRoles = []Role{RoleReportAdmin}
		c.AppOmitScopes = []string{"okta.users.manage"}
		c.Server.OmitADSchemaAttributes = true
	})
	if code, body := apiCall(t, sim, sim.Info.APIToken, http.MethodGet, "/api/v1/users", ""); code != 403 || body["errorCode"] != "E0000006" {
		t.Fatalf("report admin token read users: %d %v", code, body)
	}
	if code, _ := apiCall(t, sim, sim.Info.APIToken, http.MethodGet, "/api/v1/logs", ""); code != 200 {
		t.Fatalf("report admin token cannot read logs: %d", code)
	}
	if slices.Contains(sim.Info.ServiceApp.Scopes, "okta.users.manage") {
		t.Fatalf("scopes %v", sim.Info.ServiceApp.Scopes)
	}
	var apiErr *okta.APIError
	if _, err := appClient(t, sim, "okta.users.manage").TokenScopes(context.Background()); !errors.As(err, &apiErr) || apiErr.OAuthError != "invalid_scope" {
		t.Fatalf("token for an ungranted scope: %v", err)
	}
	_, super := sim.Server.Tokens().Add(APIToken{Name: "super", AdminID: "00usuper", Roles: []Role{RoleSuperAdmin}})
	_, schema := apiCall(t, sim, super, http.MethodGet, "/api/v1/meta/schemas/user/default", "")
	custom := schema["definitions"].(map[string]any)["custom"].(map[string]any)["properties"].(map[string]any)
	for _, a := range adSchemaAttrs {
		if custom[a] != nil {
			t.Fatalf("schema has %s", a)
		}
	}
}

func TestSimConfigRejectsUnknownSetup(t *testing.T) {
	for _, c := range []SimConfig{{Listen: "x", TokenRoles: []Role{"GOD"}}, {Listen: "x", AppOmitScopes: []string{"okta.nope"}}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
