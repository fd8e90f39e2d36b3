package oktasim

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSSWSAuth(t *testing.T) {
	o := newTestOrg(t, Config{})
	_, report := o.srv.Tokens().Add(APIToken{Name: "report", Roles: []Role{RoleReportAdmin}})
	_, readOnly := o.srv.Tokens().Add(APIToken{Name: "ro", Roles: []Role{RoleReadOnlyAdmin}})
	revokedInfo, revoked := o.srv.Tokens().Add(APIToken{Name: "revoked", Roles: []Role{RoleSuperAdmin}})
	o.srv.Tokens().Revoke(revokedInfo.ID)

	for name, tok := range map[string]string{"missing": "", "bad": "not-a-token", "revoked": revoked} {
		e := wantAPIError(t, o.getAs(tok, "/api/v1/logs"), http.StatusUnauthorized, "E0000011")
		if strings.Contains(e.ErrorSummary, tok) && tok != "" {
			t.Errorf("%s: error echoes the token", name)
		}
	}
	for _, scheme := range []string{"Bearer ", "Basic ", "SSWS"} {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/logs", nil)
		req.Header.Set("Authorization", scheme+o.token)
		rec := httptest.NewRecorder()
		o.srv.ServeHTTP(rec, req)
		wantAPIError(t, rec, http.StatusUnauthorized, "E0000011")
	}
	if rec := o.getAs(report, "/api/v1/logs"); rec.Code != 200 {
		t.Errorf("report admin reading logs: %d", rec.Code)
	}
	wantAPIError(t, o.getAs(report, "/api/v1/users"), http.StatusForbidden, "E0000006")
	for _, p := range []string{"/api/v1/logs", "/api/v1/users"} {
		if rec := o.getAs(readOnly, p); rec.Code != 200 {
			t.Errorf("read-only admin GET %s: %d", p, rec.Code)
		}
	}
	// Tokens expire after 30 days without use; each use slides the window.
	o.clock.Advance(29 * 24 * time.Hour)
	if rec := o.getAs(readOnly, "/api/v1/logs"); rec.Code != 200 {
		t.Fatalf("token used within 30 days: %d", rec.Code)
	}
	o.clock.Advance(29 * 24 * time.Hour)
	if rec := o.getAs(readOnly, "/api/v1/logs"); rec.Code != 200 {
		t.Fatalf("token used again within 30 days of last use: %d", rec.Code)
	}
	o.clock.Advance(31 * 24 * time.Hour)
	wantAPIError(t, o.getAs(readOnly, "/api/v1/logs"), http.StatusUnauthorized, "E0000011")
}

// fakeApp authenticates "Bearer app-<scopes>" as a service app, the way the OAuth component plugs in.
type fakeApp struct{}

type dpopChallenge struct{}

func (dpopChallenge) Error() string { return "dpop required" }
func (dpopChallenge) WriteAuthError(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `DPoP error="invalid_dpop_proof"`)
	w.WriteHeader(http.StatusBadRequest)
}

func (fakeApp) Authenticate(r *http.Request) (Principal, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return Principal{}, ErrNoCredentials
	}
	if tok == "needs-dpop" {
		return Principal{}, dpopChallenge{}
	}
	scopes, ok := strings.CutPrefix(tok, "app-")
	if !ok {
		return Principal{}, errors.New("unknown access token")
	}
	return Principal{ID: "0oaapp", Kind: PrincipalApp, Roles: []Role{RoleReadOnlyAdmin},
		Scopes: strings.Split(scopes, ","), ShareKey: "app:0oaapp"}, nil
}

func TestPluggableAuthenticator(t *testing.T) {
	o := newTestOrg(t, Config{})
	o.srv.AddAuthenticator(fakeApp{})
	do := func(auth, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		o.srv.ServeHTTP(rec, req)
		return rec
	}
	if rec := do("Bearer app-okta.logs.read", "/api/v1/logs"); rec.Code != 200 {
		t.Fatalf("app with okta.logs.read: %d", rec.Code)
	}
	wantAPIError(t, do("Bearer app-okta.logs.read", "/api/v1/users"), http.StatusForbidden, "E0000006")
	if rec := do("Bearer app-okta.users.manage", "/api/v1/users"); rec.Code != 200 {
		t.Fatalf("manage scope implies read: %d", rec.Code)
	}
	wantAPIError(t, do("Bearer garbage", "/api/v1/logs"), http.StatusUnauthorized, "E0000011")
	rec := do("Bearer needs-dpop", "/api/v1/logs")
	if rec.Code != 400 || rec.Header().Get("WWW-Authenticate") == "" || rec.Header().Get("X-Okta-Request-Id") == "" {
		t.Fatalf("authenticator's own error response: %d %v", rec.Code, rec.Header())
	}
	recs := o.srv.RequestLog(0)
	if len(recs) != 5 || recs[0].Principal != "0oaapp" || recs[0].Status != 200 || recs[1].Status != 403 || recs[0].Bucket != "logs" {
		t.Fatalf("request log %+v", recs)
	}
	if got := o.srv.RequestLog(recs[3].Seq); len(got) != 1 || got[0].Seq != recs[4].Seq {
		t.Fatalf("request log after %d: %+v", recs[3].Seq, got)
	}
}

func TestRoleModel(t *testing.T) {
	p := Principal{Kind: PrincipalToken, Roles: []Role{RoleReportAdmin}}
	if !p.Can(PermLogsRead) || p.Can(PermUsersRead) {
		t.Error("report admin: logs only")
	}
	p.Permissions = []Permission{PermUsersManage}
	if !p.Can(PermUsersManage) {
		t.Error("custom role permission ignored")
	}
	ro := Principal{Kind: PrincipalToken, Roles: []Role{RoleReadOnlyAdmin}}
	if !ro.Can(PermUsersRead) || ro.Can(PermUsersManage) {
		t.Error("read-only admin must read but not manage")
	}
	app := Principal{Kind: PrincipalApp, Roles: []Role{RoleSuperAdmin}, Scopes: []string{"okta.logs.read"}}
	if !app.Can(PermLogsRead) || app.Can(PermUsersRead) {
		t.Error("an app is limited by its scopes even as super admin")
	}
	if _, ok := RolePermissions("NOPE"); ok {
		t.Error("unknown role accepted")
	}
}
