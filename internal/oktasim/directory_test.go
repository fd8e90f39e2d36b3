package oktasim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// dirOrg is a test org with users in groups, factors, admins and apps.
func dirOrg(t *testing.T, cfg Config) *testOrg {
	t.Helper()
	o := newTestOrg(t, cfg)
	users := testUsers(12)
	for i := range users {
		users[i].GroupIDs = []string{"00gall0000000000000"}
		if i%2 == 0 {
			users[i].GroupIDs = append(users[i].GroupIDs, "00geven000000000000")
		}
		users[i].Factors = []Factor{{ID: "opf" + users[i].ID[3:], FactorType: "push", Provider: "OKTA", VendorName: "OKTA", Status: "ACTIVE", Created: t0}}
	}
	users[1].AdminRoles = []Role{RoleSuperAdmin}
	users[2].AdminRoles, users[2].Permissions = []Role{RoleReadOnlyAdmin}, []Permission{PermUsersManage}
	if err := o.srv.SetUsers(users); err != nil {
		t.Fatal(err)
	}
	o.srv.SetDirectory([]Group{
		{ID: "00gall0000000000000", Name: "Everyone", Type: "BUILT_IN", Created: t0, LastUpdated: t0},
		{ID: "00geven000000000000", Name: "Engineering West", Type: "OKTA_GROUP", Created: t0, LastUpdated: t0},
		{ID: "00gad00000000000000", Name: "Domain Admins", Type: "APP_GROUP", Created: t0, LastUpdated: t0},
	}, []App{{ID: "0oaslack0000000000", Name: "slack", Label: "Slack", SignOnMode: "SAML_2_0", Status: "ACTIVE", Created: t0}})
	return o
}

func decodeArray(t *testing.T, rec *httptest.ResponseRecorder) []map[string]any {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var out []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("not an array: %s", rec.Body)
	}
	return out
}

func TestGetUserByIDAndLogin(t *testing.T) {
	o := dirOrg(t, Config{})
	for _, key := range []string{"00u00000000000000003", "USER3@acme.example"} {
		rec := o.get("/api/v1/users/" + key)
		var u map[string]any
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &u) != nil || u["id"] != "00u00000000000000003" {
			t.Fatalf("%s: %d %s", key, rec.Code, rec.Body)
		}
		if u["credentials"].(map[string]any)["provider"].(map[string]any)["type"] != "ACTIVE_DIRECTORY" || u["profile"].(map[string]any)["ObjectSid"] == nil ||
			u["_links"].(map[string]any)["self"] == nil || !hasKey(u, "statusChanged") {
			t.Fatalf("user shape %v", u)
		}
	}
	wantAPIError(t, o.get("/api/v1/users/00unope"), 404, "E0000007")
	o.get("/api/v1/users/00u00000000000000003")
	if reqs := o.srv.RequestLog(0); reqs[len(reqs)-1].Bucket != "user-get" {
		t.Fatalf("user get metered as %+v, want the 2000/min user-get bucket", reqs[len(reqs)-1])
	}
}

func TestGroupsListSearchAndPaging(t *testing.T) {
	o := dirOrg(t, Config{})
	if all := decodeArray(t, o.get("/api/v1/groups")); len(all) != 3 || all[0]["profile"].(map[string]any)["name"] != "Everyone" {
		t.Fatalf("groups %v", all)
	}
	if g := decodeArray(t, o.get("/api/v1/groups?q=eng")); len(g) != 1 || g[0]["id"] != "00geven000000000000" {
		t.Fatalf("q: %v", g)
	}
	if g := decodeArray(t, o.get(`/api/v1/groups?search=type+eq+"APP_GROUP"`)); len(g) != 1 || g[0]["objectClass"].([]any)[0] != "okta:windows_security_principal" {
		t.Fatalf("search: %v", g)
	}
	wantAPIError(t, o.get(`/api/v1/groups?search=type+eq+"X"&filter=type+eq+"Y"`), 400, "E0000033")
	rec := o.get("/api/v1/groups?limit=2")
	if len(decodeArray(t, rec)) != 2 {
		t.Fatal("limit ignored")
	}
	next := links(t, rec.Header())["next"]
	rec = o.get(pathOf(next))
	if g := decodeArray(t, rec); len(g) != 1 || g[0]["id"] != "00gad00000000000000" || links(t, rec.Header())["next"] != "" {
		t.Fatalf("second page %v", g)
	}
	members := decodeArray(t, o.get("/api/v1/groups/00geven000000000000/users"))
	if len(members) != 6 {
		t.Fatalf("%d members", len(members))
	}
	wantAPIError(t, o.get("/api/v1/groups/00gnope/users"), 404, "E0000007")
	if g := decodeArray(t, o.get("/api/v1/users/00u00000000000000001/groups")); len(g) != 1 {
		t.Fatalf("user groups %v", g)
	}
}

func TestRolesFactorsAppsSchema(t *testing.T) {
	o := dirOrg(t, Config{})
	if r := decodeArray(t, o.get("/api/v1/users/00u00000000000000001/roles")); len(r) != 1 || r[0]["type"] != "SUPER_ADMIN" || r[0]["assignmentType"] != "USER" {
		t.Fatalf("super admin roles %v", r)
	}
	r := decodeArray(t, o.get("/api/v1/users/00u00000000000000002/roles"))
	if len(r) != 2 || r[0]["type"] != "READ_ONLY_ADMIN" || r[1]["type"] != "CUSTOM" || r[1]["role"] == nil || r[1]["resource-set"] == nil {
		t.Fatalf("custom roles %v", r)
	}
	if r := decodeArray(t, o.get("/api/v1/users/00u00000000000000004/roles")); len(r) != 0 {
		t.Fatalf("non-admin roles %v", r)
	}
	if f := decodeArray(t, o.get("/api/v1/users/00u00000000000000004/factors")); len(f) != 1 || f[0]["factorType"] != "push" {
		t.Fatalf("factors %v", f)
	}
	if a := decodeArray(t, o.get("/api/v1/apps")); len(a) != 1 || a[0]["label"] != "Slack" {
		t.Fatalf("apps %v", a)
	}
	custom := func(o *testOrg) map[string]any {
		rec := o.get("/api/v1/meta/schemas/user/default")
		var s map[string]any
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &s) != nil {
			t.Fatalf("schema %d %s", rec.Code, rec.Body)
		}
		return s["definitions"].(map[string]any)["custom"].(map[string]any)["properties"].(map[string]any)
	}
	props := custom(o)
	for _, a := range adSchemaAttrs {
		if props[a] == nil {
			t.Fatalf("schema lacks %s: %v", a, props)
		}
	}
	wantAPIError(t, o.get("/api/v1/meta/schemas/user/osc123"), 404, "E0000007")
	wrong := dirOrg(t, Config{OmitADSchemaAttributes: true})
	for _, a := range adSchemaAttrs {
		if custom(wrong)[a] != nil {
			t.Fatalf("OmitADSchemaAttributes kept %s", a)
		}
	}
	if rec := wrong.get("/api/v1/users/00u00000000000000003"); containsKey(rec.Body.Bytes(), "ObjectSid") {
		t.Fatalf("profile still has AD attributes: %s", rec.Body)
	}
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func containsKey(body []byte, key string) bool {
	var u map[string]any
	_ = json.Unmarshal(body, &u)
	_, ok := u["profile"].(map[string]any)[key]
	return ok
}

func TestDirectoryPermissions(t *testing.T) {
	o := dirOrg(t, Config{})
	_, report := o.srv.Tokens().Add(APIToken{Name: "report", AdminID: "00ureport", Roles: []Role{RoleReportAdmin}})
	for _, p := range []string{"/api/v1/users/00u00000000000000001", "/api/v1/groups", "/api/v1/apps",
		"/api/v1/users/00u00000000000000001/roles", "/api/v1/users/00u00000000000000001/factors", "/api/v1/meta/schemas/user/default"} {
		wantAPIError(t, o.getAs(report, p), 403, "E0000006")
	}
}

func TestCustomRolesAndResourceSets(t *testing.T) {
	o := dirOrg(t, Config{})
	var roles struct {
		Roles []map[string]any `json:"roles"`
	}
	if rec := o.get("/api/v1/iam/roles"); rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &roles) != nil || len(roles.Roles) != 1 {
		t.Fatalf("roles: %d %s", rec.Code, rec.Body)
	}
	assigned := decodeArray(t, o.get("/api/v1/users/00u00000000000000002/roles"))[1]
	id := roles.Roles[0]["id"].(string)
	if assigned["role"] != id {
		t.Fatalf("assignment names role %v, list has %s", assigned["role"], id)
	}
	var perms struct {
		Permissions []map[string]any `json:"permissions"`
	}
	if rec := o.get("/api/v1/iam/roles/" + id + "/permissions"); json.Unmarshal(rec.Body.Bytes(), &perms) != nil || len(perms.Permissions) != 1 ||
		perms.Permissions[0]["label"] != "okta.users.lifecycle.manage" {
		t.Fatalf("permissions: %s", rec.Body)
	}
	if rec := o.get("/api/v1/iam/resource-sets/" + assigned["resource-set"].(string)); rec.Code != 200 {
		t.Fatalf("resource set: %d %s", rec.Code, rec.Body)
	}
	wantAPIError(t, o.get("/api/v1/iam/roles/cr0nope"), 404, "E0000007")
	wantAPIError(t, o.get("/api/v1/iam/resource-sets/iamnope"), 404, "E0000007")
}
