package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/store"
)

// TestIntegrationRoutes walks an integration's life through the API against an emulated org
// (create, list, get, verify, disable, enable, rotate, delete) and refuses bad input with the
// error shape, naming the field and the fix.
func TestIntegrationRoutes(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Config.MaxBodyBytes = 8192 })
	admin, viewer := e.keys[store.RoleAdmin], e.keys[store.RoleViewer]
	info := e.sim.Info
	e.addTokenIntegration("acme")
	code, body := e.do(call{method: "GET", path: "/api/v1/integrations", key: viewer})
	var list struct{ Integrations []IntegrationView }
	if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || len(list.Integrations) != 1 || !list.Integrations[0].Enabled {
		t.Fatalf("list: %d %s", code, body)
	}
	for _, step := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/api/v1/integrations/acme", nil, http.StatusOK},
		{"POST", "/api/v1/integrations/acme/verify", nil, http.StatusOK},
		{"POST", "/api/v1/integrations/acme/disable", nil, http.StatusOK},
		{"POST", "/api/v1/integrations/acme/enable", nil, http.StatusOK},
		{"PUT", "/api/v1/integrations/acme/credentials", map[string]any{"apiToken": info.APIToken}, http.StatusOK},
		{"DELETE", "/api/v1/integrations/acme", nil, http.StatusNoContent},
		{"GET", "/api/v1/integrations/acme", nil, http.StatusNotFound},
	} {
		if code, body := e.do(call{method: step.method, path: step.path, key: admin, body: step.body}); code != step.want {
			t.Fatalf("%s %s: %d %s, want %d", step.method, step.path, code, body, step.want)
		}
	}

	badPEM := "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
	for _, c := range []struct {
		name  string
		body  any
		ctype string
		want  int
		field string
	}{
		{"bad PEM", map[string]any{"name": "x", "orgUrl": info.OrgURL, "serviceApp": map[string]any{"clientId": "0oa1", "keyId": "k1", "privateKey": badPEM}}, "", 400, "serviceApp.privateKey"},
		{"a JWK without d", map[string]any{"name": "x", "orgUrl": info.OrgURL, "serviceApp": map[string]any{"clientId": "0oa1", "privateKey": `{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"}`}}, "", 400, "serviceApp.privateKey"},
		{"no client id", map[string]any{"name": "x", "orgUrl": info.OrgURL, "serviceApp": map[string]any{"keyId": "k1", "privateKey": badPEM}}, "", 400, "serviceApp.clientId"},
		{"http org", map[string]any{"name": "x", "orgUrl": "http://acme.okta.com", "apiToken": "00abc"}, "", 400, "orgUrl"},
		{"not an org URL", map[string]any{"name": "x", "orgUrl": "acme", "apiToken": "00abc"}, "", 400, "orgUrl"},
		{"an admin URL", map[string]any{"name": "x", "orgUrl": "https://acme-admin.okta.com", "apiToken": "00abc"}, "", 400, "orgUrl"},
		{"both credentials", map[string]any{"name": "x", "orgUrl": info.OrgURL, "apiToken": "00abc", "serviceApp": map[string]any{"clientId": "0oa1", "privateKey": badPEM}}, "", 400, "apiToken"},
		{"no credentials", map[string]any{"name": "x", "orgUrl": info.OrgURL}, "", 400, "apiToken"},
		{"no name", map[string]any{"name": " ", "orgUrl": info.OrgURL, "apiToken": "00abc"}, "", 400, "name"},
		{"unknown feature", map[string]any{"name": "x", "orgUrl": info.OrgURL, "apiToken": "00abc", "features": []string{"everything"}}, "", 400, "features"},
		{"unknown field", `{"name":"x","orgUrl":"https://acme.okta.com","apiToken":"00abc","token":"y"}`, "", 400, "token"},
		{"two objects", `{"name":"x"}{"name":"y"}`, "", 400, ""},
		{"not JSON", `name=x`, "", 400, ""},
		{"form encoded", `{"name":"x"}`, "application/x-www-form-urlencoded", 415, ""},
		{"oversized", map[string]any{"name": "x", "orgUrl": info.OrgURL, "apiToken": strings.Repeat("0", 9000)}, "", 413, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := call{method: "POST", path: "/api/v1/integrations", key: admin, body: c.body, invalid: true}
			if c.ctype != "" {
				cl.header = map[string]string{"Content-Type": c.ctype}
			}
			code, body := e.do(cl)
			if code != c.want {
				t.Fatalf("%d %s, want %d", code, body, c.want)
			}
			if er := e.errorOf(body); er.Fix == "" || er.Field != c.field {
				t.Fatalf("error %+v, want field %q and a fix", er, c.field)
			}
			if strings.Contains(string(body), "bm90IGEga2V5") {
				t.Fatal("the key came back in the error")
			}
		})
	}
	if ins, err := e.st.ListIntegrations(t.Context()); err != nil || len(ins) != 0 {
		t.Fatalf("refused creations stored something: %+v %v", ins, err)
	}
}
