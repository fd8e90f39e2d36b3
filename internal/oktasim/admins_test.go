package oktasim

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/idwatch/idwatch/internal/okta"
)

func TestAddAdminIsTheTokensUser(t *testing.T) {
	o := newTestOrg(t, Config{})
	admin, info, tok, err := o.srv.AddAdmin(User{AdminRoles: []Role{RoleReadOnlyAdmin},
		Permissions: []Permission{PermUsersManage, PermFactorsManage}}, "verify")
	if err != nil {
		t.Fatal(err)
	}
	if info.AdminID != admin.ID || info.Name != "verify" || admin.Status != StatusActive || admin.Profile["login"] == nil {
		t.Fatalf("admin %+v token %+v", admin, info)
	}
	var me map[string]any
	if rec := o.getAs(tok, "/api/v1/users/me"); rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &me) != nil || me["id"] != admin.ID {
		t.Fatalf("users/me: %d %s", rec.Code, rec.Body)
	}
	var roles []map[string]any
	rec := o.getAs(tok, "/api/v1/users/"+admin.ID+"/roles")
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &roles) != nil || len(roles) != 2 ||
		roles[0]["type"] != "READ_ONLY_ADMIN" || roles[1]["type"] != "CUSTOM" || roles[1]["assignmentType"] != "USER" {
		t.Fatalf("roles: %d %s", rec.Code, rec.Body)
	}
	// The admin stays through a directory refresh, and its token keeps its privileges.
	if err := o.srv.SetUsers(testUsers(3)); err != nil {
		t.Fatal(err)
	}
	if rec := o.getAs(tok, "/api/v1/users/me"); rec.Code != 200 {
		t.Fatalf("users/me after SetUsers: %d %s", rec.Code, rec.Body)
	}
	if err := o.srv.SetUsers(append(testUsers(1), admin)); err == nil {
		t.Fatal("SetUsers accepted a second user with the admin's id")
	}
	if _, _, _, err := o.srv.AddAdmin(User{ID: admin.ID}, ""); err == nil {
		t.Fatal("AddAdmin accepted a duplicate id")
	}
	if _, _, _, err := o.srv.AddAdmin(User{AdminRoles: []Role{"GOD"}}, ""); err == nil {
		t.Fatal("AddAdmin accepted an unknown role")
	}
}

func TestUsersMeNeedsNoAdminPermission(t *testing.T) {
	o := newTestOrg(t, Config{})
	admin, _, tok, err := o.srv.AddAdmin(User{AdminRoles: []Role{RoleReportAdmin}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if rec := o.getAs(tok, "/api/v1/users/me"); rec.Code != 200 {
		t.Fatalf("report admin reading itself: %d %s", rec.Code, rec.Body)
	}
	wantAPIError(t, o.getAs(tok, "/api/v1/users/"+admin.ID+"/roles"), 403, "E0000006")
	// A token whose admin is not in the directory has no "me".
	wantAPIError(t, o.get("/api/v1/users/me"), 404, "E0000007")
	wantAPIError(t, o.getAs("00bogus", "/api/v1/users/me"), 401, "E0000011")
}

// TestClientRolesConformance checks GET /oauth2/v1/clients/{clientId}/roles against Okta's shape:
// an array of role assignments with assignmentType CLIENT, guarded by okta.roles.read; a service
// app's token has no "me" user.
func TestClientRolesConformance(t *testing.T) {
	sim, _ := runningSim(t, nil)
	ctx := context.Background()
	id := sim.Info.ServiceApp.ClientID
	c := appClient(t, sim, "okta.roles.read", "okta.users.read")
	page, err := c.GetPage(ctx, "/oauth2/v1/clients/"+id+"/roles")
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, raw := range page.Items {
		var ra map[string]any
		if err := json.Unmarshal(raw, &ra); err != nil {
			t.Fatal(err)
		}
		links, _ := ra["_links"].(map[string]any)
		assignee, _ := links["assignee"].(map[string]any)
		if ra["assignmentType"] != "CLIENT" || ra["status"] != "ACTIVE" || ra["id"] == "" || assignee["href"] != sim.Info.OrgURL+"/oauth2/v1/clients/"+id {
			t.Fatalf("assignment %v", ra)
		}
		types = append(types, ra["type"].(string))
	}
	if !slices.Equal(types, []string{"READ_ONLY_ADMIN", "CUSTOM"}) {
		t.Fatalf("role types %v", types)
	}
	var apiErr *okta.APIError
	if _, err := c.GetPage(ctx, "/oauth2/v1/clients/0oanotanapp/roles"); !errors.As(err, &apiErr) || apiErr.Status != 404 || apiErr.Code != "E0000007" {
		t.Fatalf("unknown client: %v", err)
	}
	if _, err := c.GetUser(ctx, "me"); !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Fatalf("users/me as a service app: %v", err)
	}
	if _, err := appClient(t, sim, "okta.logs.read").GetPage(ctx, "/oauth2/v1/clients/"+id+"/roles"); !errors.As(err, &apiErr) || apiErr.Status != 403 {
		t.Fatalf("without okta.roles.read: %v", err)
	}
}

func TestSchemaCustomAttributes(t *testing.T) {
	customOf := func(o *testOrg) map[string]any {
		t.Helper()
		var schema struct {
			Definitions struct {
				Custom struct {
					Properties map[string]any `json:"properties"`
				} `json:"custom"`
			} `json:"definitions"`
		}
		rec := o.get("/api/v1/meta/schemas/user/default")
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &schema) != nil {
			t.Fatalf("schema %d %s", rec.Code, rec.Body)
		}
		return schema.Definitions.Custom.Properties
	}
	// By default the AD link attributes are declared, even before any user carries them.
	if p := customOf(newTestOrg(t, Config{})); len(p) != 3 || p["ObjectSid"] == nil || p["ObjectGuid"] == nil || p["DistinguishedName"] == nil {
		t.Fatalf("default custom attributes %v", p)
	}
	// A renamed attribute: adGuid is declared, ObjectGuid is neither declared nor on profiles.
	o := newTestOrg(t, Config{SchemaCustomAttributes: []string{"ObjectSid", "adGuid"}})
	users := testUsers(2)
	users[0].Profile["ObjectGuid"], users[0].Profile["ObjectSid"] = "OZJdWdONCU6h7WjQKp+LPA==", "S-1-5-21-1"
	if err := o.srv.SetUsers(users); err != nil {
		t.Fatal(err)
	}
	p := customOf(o)
	if p["adGuid"] == nil || p["ObjectSid"] == nil || p["ObjectGuid"] != nil || p["DistinguishedName"] != nil {
		t.Fatalf("custom attributes %v", p)
	}
	if u := o.srv.Users()[0]; u.Profile["ObjectGuid"] != nil || u.Profile["ObjectSid"] != "S-1-5-21-1" {
		t.Fatalf("profile %v", u.Profile)
	}
	if rec := o.get(`/api/v1/users?search=profile.adGuid%20eq%20%22x%22`); rec.Code != 200 {
		t.Fatalf("search on a declared attribute: %d %s", rec.Code, rec.Body)
	}
	for _, bad := range []Config{{SchemaCustomAttributes: []string{"1sid"}}, {SchemaCustomAttributes: []string{"login"}},
		{SchemaCustomAttributes: []string{"a", "a"}}, {SchemaCustomAttributes: []string{}, OmitADSchemaAttributes: true}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
