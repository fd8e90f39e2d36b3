package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/store"
)

// TestRoutesRolesAndNoKey walks every route of the table with no key, a bad key and each role:
// a protected route answers 401 without a valid key, 403 below its role, and neither at or above
// it; a public route never asks for a key. New routes are covered by being in the table.
func TestRoutesRolesAndNoKey(t *testing.T) {
	e := newEnv(t)
	e.addTokenIntegration("acme")
	routes := e.srv.Routes()
	// Destructive routes last, so that the integration is there for the others.
	slices.SortStableFunc(routes, func(a, b Route) int {
		return boolInt(a.Method == http.MethodDelete) - boolInt(b.Method == http.MethodDelete)
	})
	for _, rt := range routes {
		path := strings.ReplaceAll(rt.Pattern, "{name}", "acme")
		var body any
		if rt.Method == http.MethodPost || rt.Method == http.MethodPut || rt.Method == http.MethodPatch {
			body = "{}"
		}
		send := func(key string) (int, []byte) {
			return e.do(call{method: rt.Method, path: path, key: key, body: body, invalid: true})
		}
		for _, key := range []string{"", "idw_not-a-key", "Basic x"} {
			code, got := send(key)
			if rt.Public {
				// /metrics is open to loopback clients without a key, but a key that is presented
				// must be valid (server.metrics_auth).
				if rt.Pattern == "/metrics" && key != "" {
					if code != http.StatusUnauthorized {
						t.Errorf("GET /metrics with the invalid key %q: %d, want 401", key, code)
					}
					continue
				}
				if code == http.StatusUnauthorized || code == http.StatusForbidden {
					t.Errorf("public %s %s with key %q: %d", rt.Method, rt.Pattern, key, code)
				}
				continue
			}
			if code != http.StatusUnauthorized {
				t.Errorf("%s %s with key %q: %d, want 401", rt.Method, rt.Pattern, key, code)
				continue
			}
			if er := e.errorOf(got); er.Code != CodeUnauthorized || er.Fix == "" {
				t.Errorf("%s %s: 401 body %+v", rt.Method, rt.Pattern, er)
			}
		}
		if rt.Public {
			continue
		}
		for _, role := range roles {
			code, got := send(e.keys[role])
			allowed := role.Rank() >= rt.Role.Rank()
			switch {
			case allowed && (code == http.StatusUnauthorized || code == http.StatusForbidden):
				t.Errorf("%s %s as %s: %d %s, want it allowed", rt.Method, rt.Pattern, role, code, got)
			case !allowed && code != http.StatusForbidden:
				t.Errorf("%s %s as %s: %d, want 403", rt.Method, rt.Pattern, role, code)
			case !allowed:
				if er := e.errorOf(got); er.Code != CodeForbidden || !strings.Contains(er.Fix, string(rt.Role)) {
					t.Errorf("%s %s as %s: 403 body %+v", rt.Method, rt.Pattern, role, er)
				}
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestOpenAPIMatchesRoutes fails when a route is missing from the document or the reverse, or
// when their operation ids differ.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t)
	doc, err := OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	inDoc := map[string]string{}
	for path, ops := range d.Paths {
		for method, raw := range ops {
			if method == "parameters" {
				continue
			}
			var op struct {
				OperationID string `json:"operationId"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			inDoc[strings.ToUpper(method)+" "+path] = op.OperationID
		}
	}
	inTable := map[string]string{}
	for _, rt := range e.srv.Routes() {
		inTable[rt.Method+" "+rt.Pattern] = rt.OperationID
	}
	for k, id := range inTable {
		if got, ok := inDoc[k]; !ok {
			t.Errorf("route %s is not in openapi.yaml", k)
		} else if got != id {
			t.Errorf("route %s: operationId %q in openapi.yaml, %q in the route table", k, got, id)
		}
	}
	for k := range inDoc {
		if _, ok := inTable[k]; !ok {
			t.Errorf("openapi.yaml documents %s, which no route serves", k)
		}
	}
	// The check above must be able to fail: a route added without documentation is caught.
	if err := e.srv.Register(Route{Method: "GET", Pattern: "/api/v1/undocumented", Role: store.RoleViewer, OperationID: "x",
		Handler: func(http.ResponseWriter, *http.Request) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rt := range e.srv.Routes() {
		_, ok := inDoc[rt.Method+" "+rt.Pattern]
		found = found || !ok
	}
	if !found {
		t.Fatal("an undocumented route went unnoticed")
	}
}

// TestRegisterRefusesBadRoutes: duplicates and incomplete entries are errors, not silent overrides.
func TestRegisterRefusesBadRoutes(t *testing.T) {
	e := newEnv(t)
	h := func(http.ResponseWriter, *http.Request) error { return nil }
	for _, rt := range []Route{
		{Method: "GET", Pattern: "/healthz", Public: true, OperationID: "dup", Handler: h},
		{Method: "FETCH", Pattern: "/x", Role: store.RoleViewer, OperationID: "x", Handler: h},
		{Method: "GET", Pattern: "x", Role: store.RoleViewer, OperationID: "x", Handler: h},
		{Method: "GET", Pattern: "/x", Role: "root", OperationID: "x", Handler: h},
		{Method: "GET", Pattern: "/x", Role: store.RoleViewer, Handler: h},
	} {
		if err := e.srv.Register(rt); err == nil {
			t.Errorf("Register(%s %s %q) accepted", rt.Method, rt.Pattern, rt.Role)
		}
	}
}
