package oktasim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/oktasim/hooks"
)

// receiver is an event hook endpoint that answers verification and records deliveries; status
// is what it answers deliveries with.
type receiver struct {
	srv        *httptest.Server
	deliveries chan map[string]any
	auth       chan string
}

func newReceiver(t *testing.T, status int) *receiver {
	rc := &receiver{deliveries: make(chan map[string]any, 16), auth: make(chan string, 16)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_ = json.NewEncoder(w).Encode(map[string]string{"verification": r.Header.Get("x-okta-verification-challenge")})
			return
		}
		var env map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &env)
		rc.auth <- r.Header.Get("Authorization")
		rc.deliveries <- env
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case env := <-rc.deliveries:
		return env
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
		return nil
	}
}

// apiCall calls the sim's API with an SSWS token.
func apiCall(t *testing.T, sim *Simulation, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, sim.Info.OrgURL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "SSWS "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// controlEvents appends raw events through the control API.
func controlEvents(t *testing.T, sim *Simulation, events ...string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, sim.Info.OrgURL+"/_sim/events", strings.NewReader("["+strings.Join(events, ",")+"]"))
	req.Header.Set(ControlKeyHeader, sim.ControlKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("append: %v %v", resp, err)
	}
	resp.Body.Close()
}

func rawEvent(n int, eventType string) string {
	return `{"uuid":"00000000-0000-4000-8000-` + strings.Repeat("0", 11) + string(rune('0'+n)) + `","published":"` +
		t0.Format(time.RFC3339) + `","eventType":"` + eventType + `","version":"0"}`
}

func deliveredTypes(env map[string]any) []string {
	var out []string
	for _, ev := range env["data"].(map[string]any)["events"].([]any) {
		out = append(out, ev.(map[string]any)["eventType"].(string))
	}
	return out
}

func TestEventHookManagementVerifyAndDeliver(t *testing.T) {
	sim, _ := runningSim(t, func(c *SimConfig) { c.Server.HookBatchWindow = 20 * time.Millisecond })
	rc := newReceiver(t, 200)
	def := `{"name":"siem","events":{"type":"EVENT_TYPE","items":["user.lifecycle.suspend"]},
		"channel":{"type":"HTTP","version":"1.0.0","config":{"uri":"` + rc.srv.URL + `/okta",
		"authScheme":{"type":"HEADER","key":"Authorization","value":"hook-secret"}}}}`

	// The connector's read-only admin may read hooks but not create them, like Okta.
	if code, body := apiCall(t, sim, sim.Info.APIToken, http.MethodPost, "/api/v1/eventHooks", def); code != 403 || body["errorCode"] != "E0000006" {
		t.Fatalf("read-only create: %d %v", code, body)
	}
	if code, _ := apiCall(t, sim, sim.Info.APIToken, http.MethodGet, "/api/v1/eventHooks", ""); code != 200 {
		t.Fatalf("read-only list: %d", code)
	}
	_, super := sim.Server.Tokens().Add(APIToken{Name: "super", AdminID: "00usuper", Roles: []Role{RoleSuperAdmin}})
	code, hook := apiCall(t, sim, super, http.MethodPost, "/api/v1/eventHooks", def)
	if code != 200 || hook["verificationStatus"] != "UNVERIFIED" || hook["createdBy"] != "00usuper" {
		t.Fatalf("create: %d %v", code, hook)
	}
	if strings.Contains(func() string { b, _ := json.Marshal(hook); return string(b) }(), "hook-secret") {
		t.Fatal("the hook's secret is returned by the API")
	}
	id := hook["id"].(string)
	if code, h := apiCall(t, sim, super, http.MethodPost, "/api/v1/eventHooks/"+id+"/lifecycle/verify", ""); code != 200 || h["verificationStatus"] != "VERIFIED" {
		t.Fatalf("verify: %d %v", code, h)
	}

	// Only the subscribed, eligible type is delivered: not an eligible unsubscribed type, not an
	// ineligible one.
	controlEvents(t, sim, rawEvent(1, "user.session.start"), rawEvent(2, "policy.evaluate_sign_on"), rawEvent(3, "user.lifecycle.suspend"))
	env := rc.next(t)
	if env["eventType"] != "com.okta.event_hook" || strings.Join(deliveredTypes(env), ",") != "user.lifecycle.suspend" {
		t.Fatalf("delivery %v", env)
	}
	if a := <-rc.auth; a != "hook-secret" {
		t.Fatalf("auth header %q", a)
	}
}

func TestEventHookFromConfigAndFailedDelivery(t *testing.T) {
	rc := newReceiver(t, 500)
	h, err := ParseEventHook("uri=" + rc.srv.URL + ",name=broken,events=user.session.start")
	if err != nil {
		t.Fatal(err)
	}
	sim, _ := runningSim(t, func(c *SimConfig) {
		c.Server.HookBatchWindow = 20 * time.Millisecond
		c.Server.EventHooks = []hooks.Hook{h}
	})
	// RunHooks verifies the configured hook; wait for that before persisting events.
	for deadline := time.Now().Add(10 * time.Second); !sim.Server.EventHooks().Wants("user.session.start"); {
		if time.Now().After(deadline) {
			t.Fatalf("configured hook never verified: %+v", sim.Server.EventHooks().List())
		}
		time.Sleep(5 * time.Millisecond)
	}
	controlEvents(t, sim, rawEvent(4, "user.session.start"))
	rc.next(t)
	rc.next(t) // one retry on 5xx
	// The failure is recorded in the System Log.
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, pending := sim.Server.EventCount()
		if found := findEvent(t, sim, "event_hook.delivery"); found != nil {
			if found["outcome"].(map[string]any)["result"] != "FAILURE" {
				t.Fatalf("delivery event %v", found)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event_hook.delivery event (pending %d)", pending)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// findEvent returns the first visible System Log event of eventType.
func findEvent(t *testing.T, sim *Simulation, eventType string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, sim.Info.OrgURL+`/api/v1/logs?limit=1000&since=`+t0.Add(-2*time.Hour).Format(time.RFC3339)+`&filter=eventType+eq+"`+eventType+`"`, nil)
	req.Header.Set("Authorization", "SSWS "+sim.Info.APIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var evs []map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&evs)
	if len(evs) == 0 {
		return nil
	}
	return evs[0]
}

func TestParseEventHook(t *testing.T) {
	h, err := ParseEventHook("uri=http://127.0.0.1:9/x,name=n,events=a|b,auth=Authorization:s,header=X-Env:test")
	if err != nil || h.Name != "n" || len(h.Events.Items) != 2 || h.Channel.Config.AuthScheme.Value != "s" || h.Channel.Config.Headers[0].Key != "X-Env" {
		t.Fatalf("%+v %v", h, err)
	}
	if h, err := ParseEventHook("http://127.0.0.1:9/x"); err != nil || h.Channel.Config.URI != "http://127.0.0.1:9/x" {
		t.Fatalf("bare URI: %+v %v", h, err)
	}
	for _, bad := range []string{"name=x", "uri=http://x,bogus=1", "uri=http://x,auth=nocolon", "uri=http://x,junk"} {
		if _, err := ParseEventHook(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
