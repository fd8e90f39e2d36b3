package hooks

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// allowAll records the scope asked for and lets the request through as actor 00uadmin.
type authz struct{ scopes []string }

func (a *authz) allow(w http.ResponseWriter, r *http.Request, scope string) (string, bool) {
	a.scopes = append(a.scopes, scope)
	if r.Header.Get("Authorization") == "deny" {
		w.WriteHeader(http.StatusForbidden)
		return "", false
	}
	return "00uadmin", true
}

type apiReply struct {
	status int
	body   map[string]any
	list   []map[string]any
}

func call(t *testing.T, h http.Handler, method, path, body string) apiReply {
	t.Helper()
	r := httptest.NewRequest(method, "http://127.0.0.1:9999"+path, strings.NewReader(body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	out := apiReply{status: w.Code}
	if b := bytes.TrimSpace(w.Body.Bytes()); len(b) > 0 && b[0] == '[' {
		_ = json.Unmarshal(b, &out.list)
	} else if len(b) > 0 {
		_ = json.Unmarshal(b, &out.body)
	}
	return out
}

func TestManagementAPI(t *testing.T) {
	rc := newReceiver(t, echoVerification(200))
	g, _ := newRegistry(t, nil)
	a := &authz{}
	h := g.Handler(a.allow)
	def, _ := json.Marshal(hookDef(rc.srv.URL+"/hook", "user.session.start", "user.account.lock"))

	created := call(t, h, "POST", "/api/v1/eventHooks", string(def))
	if created.status != 200 || created.body["status"] != "ACTIVE" || created.body["verificationStatus"] != "UNVERIFIED" || created.body["createdBy"] != "00uadmin" {
		t.Fatalf("create: %d %v", created.status, created.body)
	}
	auth := created.body["channel"].(map[string]any)["config"].(map[string]any)["authScheme"].(map[string]any)
	if _, has := auth["value"]; has || auth["key"] != "Authorization" || auth["type"] != "HEADER" {
		t.Fatalf("authScheme = %v; the value is write-only", auth)
	}
	id := created.body["id"].(string)
	links := created.body["_links"].(map[string]any)
	if links["self"].(map[string]any)["href"] != "http://127.0.0.1:9999/api/v1/eventHooks/"+id || links["deactivate"] == nil || links["verify"] == nil {
		t.Fatalf("links = %v", links)
	}

	if r := call(t, h, "GET", "/api/v1/eventHooks", ""); r.status != 200 || len(r.list) != 1 || r.list[0]["id"] != id {
		t.Fatalf("list: %d %v", r.status, r.list)
	}
	if r := call(t, h, "GET", "/api/v1/eventHooks/"+id, ""); r.status != 200 || r.body["name"] != "SIEM connector" {
		t.Fatalf("get: %d %v", r.status, r.body)
	}
	if r := call(t, h, "POST", "/api/v1/eventHooks/"+id+"/lifecycle/verify", ""); r.status != 200 || r.body["verificationStatus"] != "VERIFIED" {
		t.Fatalf("verify: %d %v", r.status, r.body)
	}
	if r := call(t, h, "DELETE", "/api/v1/eventHooks/"+id, ""); r.status != 400 || r.body["errorCode"] != "E0000001" {
		t.Fatalf("delete active: %d %v", r.status, r.body)
	}
	if r := call(t, h, "POST", "/api/v1/eventHooks/"+id+"/lifecycle/deactivate", ""); r.status != 200 || r.body["status"] != "INACTIVE" {
		t.Fatalf("deactivate: %d %v", r.status, r.body)
	}
	if r := call(t, h, "POST", "/api/v1/eventHooks/"+id+"/lifecycle/activate", ""); r.status != 200 || r.body["status"] != "ACTIVE" {
		t.Fatalf("activate: %d %v", r.status, r.body)
	}
	call(t, h, "POST", "/api/v1/eventHooks/"+id+"/lifecycle/deactivate", "")
	if r := call(t, h, "DELETE", "/api/v1/eventHooks/"+id, ""); r.status != 204 {
		t.Fatalf("delete: %d %v", r.status, r.body)
	}
	r := call(t, h, "GET", "/api/v1/eventHooks/"+id, "")
	if r.status != 404 || r.body["errorCode"] != "E0000007" || r.body["errorId"] == "" || r.body["errorCauses"] == nil {
		t.Fatalf("get deleted: %d %v", r.status, r.body)
	}
	want := []string{ScopeManage, ScopeRead, ScopeRead, ScopeManage, ScopeManage, ScopeManage, ScopeManage, ScopeManage, ScopeManage, ScopeRead}
	if strings.Join(a.scopes, ",") != strings.Join(want, ",") {
		t.Fatalf("scopes asked = %v", a.scopes)
	}
}

func TestManagementAPIErrors(t *testing.T) {
	g, _ := newRegistry(t, nil)
	a := &authz{}
	h := g.Handler(a.allow)
	bad := func(mod func(*Hook)) string {
		d := hookDef("https://receiver.example.com/hook", "user.session.start")
		mod(&d)
		b, _ := json.Marshal(d)
		return string(b)
	}
	cases := map[string]string{
		"http outside loopback": bad(func(d *Hook) { d.Channel.Config.URI = "http://receiver.example.com/hook" }),
		"no name":               bad(func(d *Hook) { d.Name = " " }),
		"no events":             bad(func(d *Hook) { d.Events.Items = nil }),
		"ineligible event":      bad(func(d *Hook) { d.Events.Items = []string{"system.push.send_factor_verify_push"} }),
		"wrong events type":     bad(func(d *Hook) { d.Events.Type = "FLOW" }),
		"wrong channel version": bad(func(d *Hook) { d.Channel.Version = "2.0.0" }),
		"auth scheme type":      bad(func(d *Hook) { d.Channel.Config.AuthScheme.Type = "BASIC" }),
		"header injection":      bad(func(d *Hook) { d.Channel.Config.Headers = []Header{{Key: "X", Value: "a\r\nB: c"}} }),
	}
	for name, body := range cases {
		r := call(t, h, "POST", "/api/v1/eventHooks", body)
		if r.status != 400 || r.body["errorCode"] != "E0000001" || len(r.body["errorCauses"].([]any)) == 0 {
			t.Errorf("%s: %d %v", name, r.status, r.body)
		}
	}
	if r := call(t, h, "POST", "/api/v1/eventHooks", "{"); r.status != 400 || r.body["errorCode"] != "E0000003" {
		t.Fatalf("malformed: %d %v", r.status, r.body)
	}
	if r := call(t, h, "PUT", "/api/v1/eventHooks/who1/lifecycle/explode", ""); r.status != 405 || r.body["errorCode"] != "E0000022" {
		t.Fatalf("bad route: %d %v", r.status, r.body)
	}
	if r := call(t, h, "POST", "/api/v1/eventHooks/nope/lifecycle/activate", ""); r.status != 404 {
		t.Fatalf("activate unknown: %d", r.status)
	}
	req := httptest.NewRequest("GET", "http://127.0.0.1:9999/api/v1/eventHooks", nil)
	req.Header.Set("Authorization", "deny")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 403 {
		t.Fatalf("denied request: %d", w.Code)
	}
}

func TestActiveHookLimit(t *testing.T) {
	g, _ := newRegistry(t, nil)
	var last Hook
	for i := range maxActiveHooks {
		h, err := g.Create(hookDef("https://r.example.com/"+string(rune('a'+i)), "user.session.start"), "")
		if err != nil {
			t.Fatal(err)
		}
		last = h
	}
	if _, err := g.Create(hookDef("https://r.example.com/z", "user.session.start"), ""); err == nil {
		t.Fatal("26th active hook accepted")
	}
	if _, err := g.Deactivate(last.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Create(hookDef("https://r.example.com/z", "user.session.start"), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Activate(last.ID); err == nil {
		t.Fatal("activation beyond the limit accepted")
	}
}

// FuzzCreateHook feeds arbitrary bodies to the create endpoint: never a panic, always an
// Okta answer.
func FuzzCreateHook(f *testing.F) {
	def, _ := json.Marshal(hookDef("https://r.example.com/hook", "user.session.start"))
	f.Add(string(def))
	f.Add(`{"events":{"items":[""]},"channel":{"config":{"uri":"::"}}}`)
	g, _ := newRegistry(f, nil)
	h := g.Handler((&authz{}).allow)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "http://127.0.0.1:9999/api/v1/eventHooks", strings.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 && w.Code != 400 {
			t.Fatalf("status %d for %q", w.Code, body)
		}
		if w.Code == 200 {
			var out Hook
			_ = json.Unmarshal(w.Body.Bytes(), &out)
			_, _ = g.Deactivate(out.ID)
			_ = g.Delete(out.ID)
		}
	})
}
