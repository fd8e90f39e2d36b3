package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/respond"
	"github.com/idwatch/idwatch/internal/store"
)

// responseOrg is an emulated org with a user to act on and a super admin, and idwatch's own
// admin account with the permissions response actions need.
func responseOrg(t *testing.T) (*oktasim.Server, string, string) {
	t.Helper()
	limits := oktasim.DefaultRateLimits()
	limits.Disabled = true
	sim, err := oktasim.New(oktasim.Config{RateLimits: limits})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	at := time.Now().Add(-24 * time.Hour)
	mk := func(id, login string) oktasim.User {
		return oktasim.User{ID: id, Status: oktasim.StatusActive, Created: at, LastUpdated: at, ProviderType: "OKTA", ProviderName: "OKTA",
			Profile: map[string]any{"login": login, "email": login, "firstName": "T", "lastName": "U"}}
	}
	root := mk("00uroot0000000000001", "root@acme.example")
	root.AdminRoles = []oktasim.Role{oktasim.RoleSuperAdmin}
	if err := sim.SetUsers([]oktasim.User{mk("00ujdoe0000000000001", "jdoe@acme.example"), root}); err != nil {
		t.Fatal(err)
	}
	_, _, token, err := sim.AddAdmin(oktasim.User{ID: "00uidwatch0000000001", AdminRoles: []oktasim.Role{oktasim.RoleReadOnlyAdmin},
		Permissions: []oktasim.Permission{oktasim.PermUsersManage, oktasim.PermSessionsManage, oktasim.PermFactorsManage}}, "idwatch")
	if err != nil {
		t.Fatal(err)
	}
	return sim, ts.URL, token
}

func simStatus(sim *oktasim.Server, id string) string {
	for _, u := range sim.Users() {
		if u.ID == id {
			return u.Status
		}
	}
	return ""
}

// TestResponseRoutes runs response actions through the API against an emulated org: a dry run
// changes nothing, an analyst proposes and another approves, the user is suspended in Okta with
// the audit trail, the guard rails refuse the connector's own account, deactivation needs
// confirmation, and a retried request with the same idempotency key sends nothing again.
func TestResponseRoutes(t *testing.T) {
	sim, orgURL, token := responseOrg(t)
	e := newEnv(t, func(o *Options) {
		r, err := respond.New(respond.Config{}, respond.Deps{Store: o.Store, Clients: func(ctx context.Context, id int64) (*okta.Client, store.Integration, error) {
			in, err := o.Store.Integration(ctx, id)
			if err != nil {
				return nil, in, err
			}
			c, err := o.Clients.Client(in)
			return c, in, err
		}})
		if err != nil {
			t.Fatal(err)
		}
		o.Responder = r
	})
	admin, analyst, viewer := e.keys[store.RoleAdmin], e.keys[store.RoleAnalyst], e.keys[store.RoleViewer]
	if code, body := e.do(call{method: "POST", path: "/api/v1/integrations", key: admin,
		body: map[string]any{"name": "lab", "orgUrl": orgURL, "apiToken": token, "features": []string{"response"}, "noVerify": true}}); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	const jdoe = "00ujdoe0000000000001"
	req := func(key string, body map[string]any, header map[string]string, want int) respond.Outcome {
		t.Helper()
		code, raw := e.do(call{method: "POST", path: "/api/v1/responses", key: key, body: body, header: header})
		var out respond.Outcome
		if err := json.Unmarshal(raw, &out); code != want || err != nil {
			t.Fatalf("%v: %d %s, want %d", body, code, raw, want)
		}
		return out
	}
	dry := req(analyst, map[string]any{"integration": "lab", "action": "suspend", "user": "jdoe@acme.example", "dryRun": true}, nil, http.StatusOK)
	if len(dry.Calls) == 0 || simStatus(sim, jdoe) != oktasim.StatusActive {
		t.Fatalf("dry run: %+v, status %s", dry, simStatus(sim, jdoe))
	}
	code, body := e.do(call{method: "POST", path: "/api/v1/responses", key: analyst, body: map[string]any{"integration": "lab", "action": "suspend", "user": "jdoe@acme.example"}})
	if code != http.StatusForbidden || e.errorOf(body).Field != "propose" {
		t.Fatalf("an analyst running an action now: %d %s", code, body)
	}
	prop := req(analyst, map[string]any{"integration": "lab", "action": "suspend", "user": "jdoe@acme.example", "propose": true, "reason": "INC-7"}, nil, http.StatusCreated)
	if prop.Action.Status != store.ResponsePending || simStatus(sim, jdoe) != oktasim.StatusActive {
		t.Fatalf("proposal: %+v", prop.Action)
	}
	code, body = e.do(call{method: "POST", path: "/api/v1/responses/" + prop.Action.ID + "/approve", key: analyst})
	var done respond.Outcome
	if err := json.Unmarshal(body, &done); code != http.StatusOK || err != nil || done.Action.Status != store.ResponseExecuted {
		t.Fatalf("approve: %d %s", code, body)
	}
	if simStatus(sim, jdoe) != oktasim.StatusSuspended {
		t.Fatalf("jdoe is %s after the suspension", simStatus(sim, jdoe))
	}
	code, body = e.do(call{method: "GET", path: "/api/v1/responses/" + prop.Action.ID, key: viewer})
	var trail ResponseTrail
	if err := json.Unmarshal(body, &trail); code != http.StatusOK || err != nil || len(trail.Trail) < 3 {
		t.Fatalf("trail: %d %s", code, body)
	}
	kinds := map[string]bool{}
	for _, r := range trail.Trail {
		kinds[r.Kind] = true
	}
	if !kinds["proposed"] || !kinds["approved"] || !kinds["call"] || !kinds["verified"] {
		t.Fatalf("trail kinds %v", kinds)
	}
	// Approving again is a conflict: the action is no longer pending.
	if code, body = e.do(call{method: "POST", path: "/api/v1/responses/" + prop.Action.ID + "/approve", key: analyst}); code != http.StatusConflict {
		t.Fatalf("second approval: %d %s", code, body)
	}
	// The guard rails refuse idwatch's own account; the refusal is recorded.
	own := req(admin, map[string]any{"integration": "lab", "action": "suspend", "user": "00uidwatch0000000001"}, nil, http.StatusCreated)
	if own.Refusal == "" || own.Action.Status != store.ResponseRefused {
		t.Fatalf("own account: %+v", own)
	}
	code, body = e.do(call{method: "POST", path: "/api/v1/responses", key: admin, body: map[string]any{"integration": "lab", "action": "deactivate", "user": "jdoe@acme.example"}})
	if code != http.StatusBadRequest || e.errorOf(body).Field != "confirm" {
		t.Fatalf("deactivate without confirm: %d %s", code, body)
	}
	key := map[string]string{"Idempotency-Key": "inc-7-clear"}
	first := req(admin, map[string]any{"integration": "lab", "action": "clear_sessions", "user": "jdoe@acme.example"}, key, http.StatusCreated)
	again := req(admin, map[string]any{"integration": "lab", "action": "clear_sessions", "user": "jdoe@acme.example"}, key, http.StatusOK)
	if !again.Replayed || again.Action.ID != first.Action.ID {
		t.Fatalf("replay: %+v", again)
	}
	code, body = e.do(call{method: "GET", path: "/api/v1/responses?status=executed", key: viewer})
	var list struct{ Responses []store.ResponseAction }
	if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || len(list.Responses) != 2 {
		t.Fatalf("executed: %d %s", code, body)
	}
	for _, c := range []struct {
		call
		want  int
		field string
	}{
		{call{method: "POST", path: "/api/v1/responses", key: admin, body: map[string]any{"integration": "lab", "action": "delete_everything", "user": "x"}, invalid: true}, 400, "action"},
		{call{method: "POST", path: "/api/v1/responses", key: admin, body: map[string]any{"integration": "nope", "action": "suspend", "user": "x"}}, 400, "integration"},
		{call{method: "POST", path: "/api/v1/responses", key: viewer, body: map[string]any{"integration": "lab", "action": "suspend", "user": "x", "dryRun": true}}, 403, ""},
		{call{method: "POST", path: "/api/v1/responses/nope/reject", key: analyst}, 404, "id"},
		{call{method: "GET", path: "/api/v1/responses?status=done", key: viewer, invalid: true}, 400, "status"},
	} {
		code, body := e.do(c.call)
		if code != c.want {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, code, body, c.want)
			continue
		}
		if er := e.errorOf(body); er.Fix == "" || er.Field != c.field {
			t.Errorf("%s %s: error %+v", c.method, c.path, er)
		}
	}
}
