package console_test

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/console/consoletest"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type harness struct {
	t     *testing.T
	h     http.Handler
	fake  *consoletest.Backend
	clock *clock
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	clk := &clock{t: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	fake := consoletest.New(clk.now)
	h, err := console.New(console.Options{Backend: fake, Now: clk.now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, h: h, fake: fake, clock: clk}
}

// do serves one request; a POST carries the same-origin header a browser sends.
func (hs *harness) do(method, path string, form url.Values, cookie *http.Cookie) *httptest.ResponseRecorder {
	hs.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, "http://console.test"+path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == http.MethodPost {
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	hs.h.ServeHTTP(w, r)
	return w
}

func (hs *harness) login(key string) *http.Cookie {
	hs.t.Helper()
	w := hs.do("POST", "/login", url.Values{"key": {key}}, nil)
	if w.Code != http.StatusSeeOther {
		hs.t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == "idwatch_session" {
			return c
		}
	}
	hs.t.Fatal("login: no session cookie")
	return nil
}

func TestLoginCookie(t *testing.T) {
	hs := newHarness(t)
	w := hs.do("POST", "/login", url.Values{"key": {consoletest.AdminKey}}, nil)
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies: %v", cookies)
	}
	c := cookies[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure {
		t.Errorf("cookie over plain HTTP: HttpOnly=%v SameSite=%v Secure=%v", c.HttpOnly, c.SameSite, c.Secure)
	}
	if strings.Contains(c.Value, consoletest.AdminKey) || len(c.Value) < 40 {
		t.Errorf("cookie value %q: want a random id, not the key", c.Value)
	}
	// Over TLS the cookie is Secure.
	r := httptest.NewRequest("POST", "https://console.test/login", strings.NewReader("key="+consoletest.AdminKey))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.TLS = &tls.ConnectionState{}
	tw := httptest.NewRecorder()
	hs.h.ServeHTTP(tw, r)
	if tc := tw.Result().Cookies(); len(tc) != 1 || !tc[0].Secure {
		t.Errorf("cookie over TLS: %v", tc)
	}
	// A second sign-in gets a different id.
	if c2 := hs.login(consoletest.AdminKey); c2.Value == c.Value {
		t.Error("two sign-ins share a session id")
	}
}

func TestLoginRefused(t *testing.T) {
	hs := newHarness(t)
	for _, key := range []string{"", "nope", strings.Repeat("k", 600)} {
		w := hs.do("POST", "/login", url.Values{"key": {key}}, nil)
		if w.Code == http.StatusSeeOther || len(w.Result().Cookies()) != 0 {
			t.Errorf("key %.10q: signed in (%d)", key, w.Code)
		}
		if !strings.Contains(w.Body.String(), "Fix:") {
			t.Errorf("key %.10q: no fix in %s", key, w.Body)
		}
		if key != "" && strings.Contains(w.Body.String(), key) {
			t.Errorf("the refused key is echoed back")
		}
	}
}

func TestSignedOutRedirects(t *testing.T) {
	hs := newHarness(t)
	for _, p := range []string{"/", "/integrations", "/alerts/al-2210", "/events", "/rules", "/sinks", "/settings"} {
		w := hs.do("GET", p, nil, nil)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login" {
			t.Errorf("GET %s signed out: %d %s", p, w.Code, w.Header().Get("Location"))
		}
	}
	w := hs.do("POST", "/alerts/al-2210/action", url.Values{"kind": {"ack"}}, nil)
	if w.Code != http.StatusSeeOther || len(hs.fake.Actions()) != 0 {
		t.Errorf("POST signed out: %d, actions %v", w.Code, hs.fake.Actions())
	}
}

func TestRoles(t *testing.T) {
	hs := newHarness(t)
	cookies := map[console.Role]*http.Cookie{
		console.RoleViewer:  hs.login(consoletest.ViewerKey),
		console.RoleAnalyst: hs.login(consoletest.AnalystKey),
		console.RoleAdmin:   hs.login(consoletest.AdminKey),
	}
	type req struct {
		method, path string
		form         url.Values
		need         console.Role
	}
	incs, err := hs.fake.Incidents(t.Context(), console.IncidentQuery{})
	if err != nil || len(incs) == 0 {
		t.Fatalf("seeded incidents: %v", err)
	}
	inc := "/incidents/" + incs[0].ID
	reqs := []req{
		{"GET", "/identities?admins=on", nil, console.RoleViewer},
		{"GET", "/posture", nil, console.RoleViewer},
		{"GET", "/responses", nil, console.RoleViewer},
		{"GET", "/responses/ra-done1", nil, console.RoleViewer},
		{"POST", "/responses/ra-pending1/decide", url.Values{"decision": {"reject"}, "note": {"not now"}}, console.RoleAnalyst},
		{"POST", "/alerts/al-51c0/respond", url.Values{"action": {"clear_sessions"}, "mode": {"propose"}}, console.RoleAnalyst},
		{"GET", "/incidents", nil, console.RoleViewer},
		{"GET", inc, nil, console.RoleViewer},
		{"POST", inc + "/update", url.Values{"status": {"in_progress"}, "assignee": {"kim"}, "note": {"on it"}}, console.RoleAnalyst},
		{"POST", inc + "/suppress", url.Values{"rule": {incs[0].Rules[0]}, "entity": {incs[0].Entity}, "for": {"24h"}, "reason": {"known"}}, console.RoleAnalyst},
		{"GET", "/integrations", nil, console.RoleViewer},
		{"GET", "/integrations/1", nil, console.RoleViewer},
		{"GET", "/alerts", nil, console.RoleViewer},
		{"GET", "/alerts/al-2210", nil, console.RoleViewer},
		{"GET", "/events", nil, console.RoleViewer},
		{"GET", "/rules", nil, console.RoleViewer},
		{"GET", "/sinks", nil, console.RoleViewer},
		{"POST", "/alerts/al-2210/action", url.Values{"kind": {"note"}, "note": {"checked"}}, console.RoleAnalyst},
		{"GET", "/settings", nil, console.RoleAdmin},
		{"POST", "/settings/keys", url.Values{"name": {"x"}, "role": {"viewer"}}, console.RoleAdmin},
		{"POST", "/integrations/1/disable", url.Values{}, console.RoleAdmin},
		{"POST", "/integrations/verify", url.Values{"auth": {"api_token"}}, console.RoleAdmin},
		{"POST", "/rules/okta_password_spray/disable", url.Values{}, console.RoleAdmin},
		{"POST", "/sinks/siem-hec/replay", url.Values{}, console.RoleAdmin},
	}
	rank := map[console.Role]int{console.RoleViewer: 1, console.RoleAnalyst: 2, console.RoleAdmin: 3}
	for _, rq := range reqs {
		for role, ck := range cookies {
			before := len(hs.fake.Actions())
			w := hs.do(rq.method, rq.path, rq.form, ck)
			allowed := rank[role] >= rank[rq.need]
			if allowed && w.Code == http.StatusForbidden {
				t.Errorf("%s %s as %s: 403, want allowed", rq.method, rq.path, role)
			}
			if !allowed {
				if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "needs the "+string(rq.need)+" role") {
					t.Errorf("%s %s as %s: %d, want the 403 page", rq.method, rq.path, role, w.Code)
				}
				if len(hs.fake.Actions()) != before {
					t.Errorf("%s %s as %s changed something: %v", rq.method, rq.path, role, hs.fake.Actions()[before:])
				}
			}
		}
	}
	// The viewer's pages offer no buttons it cannot use.
	body := hs.do("GET", "/alerts/al-2210", nil, cookies[console.RoleViewer]).Body.String()
	if strings.Contains(body, "Acknowledge") || strings.Contains(body, "/action") {
		t.Error("viewer sees triage actions")
	}
	if body := hs.do("GET", "/integrations", nil, cookies[console.RoleAnalyst]).Body.String(); strings.Contains(body, "Add an integration") || strings.Contains(body, "/settings") {
		t.Error("analyst sees admin-only forms or links")
	}
}

func TestCrossOriginRefused(t *testing.T) {
	hs := newHarness(t)
	ck := hs.login(consoletest.AdminKey)
	r := httptest.NewRequest("POST", "http://console.test/integrations/1/disable", strings.NewReader(""))
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.AddCookie(ck)
	w := httptest.NewRecorder()
	hs.h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden || len(hs.fake.Actions()) != 0 {
		t.Errorf("cross-site POST: %d, actions %v", w.Code, hs.fake.Actions())
	}
	r = httptest.NewRequest("POST", "http://console.test/login", strings.NewReader("key="+consoletest.AdminKey))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "https://evil.example")
	w = httptest.NewRecorder()
	hs.h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden || len(w.Result().Cookies()) != 0 {
		t.Errorf("cross-origin login: %d", w.Code)
	}
}

func TestSessionExpiry(t *testing.T) {
	hs := newHarness(t)
	ck := hs.login(consoletest.ViewerKey)
	hs.clock.add(29 * time.Minute)
	if w := hs.do("GET", "/alerts", nil, ck); w.Code != http.StatusOK {
		t.Fatalf("after 29 idle minutes: %d", w.Code)
	}
	hs.clock.add(31 * time.Minute)
	if w := hs.do("GET", "/alerts", nil, ck); w.Code != http.StatusSeeOther {
		t.Errorf("after 31 idle minutes: %d, want sign-in again", w.Code)
	}
	// Absolute limit: active all along, still ends after 12 hours.
	ck = hs.login(consoletest.ViewerKey)
	for range 25 {
		hs.clock.add(29 * time.Minute)
		hs.do("GET", "/alerts", nil, ck)
	}
	if w := hs.do("GET", "/alerts", nil, ck); w.Code != http.StatusSeeOther {
		t.Errorf("after 12 h of use: %d, want sign-in again", w.Code)
	}
}

func TestLogoutAndRevoke(t *testing.T) {
	hs := newHarness(t)
	ck := hs.login(consoletest.ViewerKey)
	hs.do("POST", "/logout", url.Values{}, ck)
	if w := hs.do("GET", "/alerts", nil, ck); w.Code != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", w.Code)
	}
	viewer := hs.login(consoletest.ViewerKey)
	admin := hs.login(consoletest.AdminKey)
	if w := hs.do("POST", "/settings/keys/first-admin/revoke", url.Values{}, admin); !strings.Contains(w.Body.String(), "You are signed in with this key") || len(hs.fake.Actions()) != 0 {
		t.Errorf("revoking the session's own key: %d %v", w.Code, hs.fake.Actions())
	}
	if w := hs.do("POST", "/settings/keys/noc-dashboard/revoke", url.Values{}, admin); w.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	if w := hs.do("GET", "/alerts", nil, viewer); w.Code != http.StatusSeeOther {
		t.Errorf("revoked key's session still works: %d", w.Code)
	}
}

func TestCreateKeyShownOnce(t *testing.T) {
	hs := newHarness(t)
	admin := hs.login(consoletest.AdminKey)
	w := hs.do("POST", "/settings/keys", url.Values{"name": {"ci-bot"}, "role": {"analyst"}}, admin)
	key := regexp.MustCompile(`value="(idw_analyst_[0-9a-f]+)"`).FindStringSubmatch(w.Body.String())
	if key == nil {
		t.Fatalf("new key not shown: %s", w.Body)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Error("the page with the new key may be cached")
	}
	if strings.Contains(hs.do("GET", "/settings", nil, admin).Body.String(), key[1]) {
		t.Error("the key is shown again")
	}
	hs.login(key[1])
}

func TestStrictPages(t *testing.T) {
	hs := newHarness(t)
	ck := hs.login(consoletest.AdminKey)
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]|<script>|\sstyle=|<style|\son[a-z]+=|javascript:`)
	incs, err := hs.fake.Incidents(t.Context(), console.IncidentQuery{})
	if err != nil || len(incs) == 0 {
		t.Fatalf("seeded incidents: %v", err)
	}
	for _, p := range []string{"/login", "/integrations", "/integrations/1", "/integrations/2", "/alerts", "/alerts/al-51c0", "/incidents", "/incidents/" + incs[0].ID, "/responses", "/responses/ra-pending1", "/identities", "/posture", "/events", "/events?type=user.session.*", "/rules", "/sinks", "/settings", "/nowhere"} {
		c := ck
		if p == "/login" {
			c = nil
		}
		w := hs.do("GET", p, nil, c)
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", p)
		}
		if m := inline.FindString(w.Body.String()); m != "" {
			t.Errorf("%s: inline code or style %q", p, m)
		}
	}
}

func TestFlashIsACode(t *testing.T) {
	hs := newHarness(t)
	ck := hs.login(consoletest.ViewerKey)
	body := hs.do("GET", "/integrations?done=Your+session+expired,+sign+in+at+evil.example", nil, ck).Body.String()
	if strings.Contains(body, "evil.example") {
		t.Error("a crafted link puts its text on the page")
	}
	if body := hs.do("GET", "/integrations?done=enabled", nil, ck).Body.String(); !strings.Contains(body, "Integration enabled") {
		t.Error("known confirmation not shown")
	}
}

func TestAlertSuppressNeedsReason(t *testing.T) {
	hs := newHarness(t)
	ck := hs.login(consoletest.AnalystKey)
	w := hs.do("POST", "/alerts/al-2210/action", url.Values{"kind": {"suppress"}, "for": {"24h"}}, ck)
	if !strings.Contains(w.Body.String(), "Give a reason") || len(hs.fake.Actions()) != 0 {
		t.Errorf("suppress without reason: %d %v", w.Code, hs.fake.Actions())
	}
	w = hs.do("POST", "/alerts/al-2210/action", url.Values{"kind": {"suppress"}, "for": {"24h"}, "note": {"pen test SEC-142"}}, ck)
	if w.Code != http.StatusSeeOther || len(hs.fake.Actions()) != 1 {
		t.Errorf("suppress: %d %v", w.Code, hs.fake.Actions())
	}
	if body := hs.do("GET", "/alerts/al-2210", nil, ck).Body.String(); !strings.Contains(body, "soc-analyst</strong>: suppressed until 2026-12-05T12:00:00Z: pen test SEC-142") {
		t.Error("suppression not in the alert's history with who and until when")
	}
}

func TestOptionsValidate(t *testing.T) {
	fake := consoletest.New(time.Now)
	for _, tc := range []struct {
		o    console.Options
		want string
	}{
		{console.Options{}, "Backend is required"},
		{console.Options{Backend: fake, BasePath: "console"}, "must start with /"},
		{console.Options{Backend: fake, BasePath: "/console/"}, "not end with one"},
		{console.Options{Backend: fake, SessionIdle: -1}, "must not be negative"},
	} {
		if _, err := console.New(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
}

func TestBasePath(t *testing.T) {
	fake := consoletest.New(time.Now)
	h, err := console.New(console.Options{Backend: fake, BasePath: "/console", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/console/", http.StripPrefix("/console", h))
	r := httptest.NewRequest("POST", "http://x/console/login", strings.NewReader("key="+consoletest.ViewerKey))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Header().Get("Location") != "/console/integrations" {
		t.Errorf("redirect %q", w.Header().Get("Location"))
	}
	c := w.Result().Cookies()[0]
	r = httptest.NewRequest("GET", "http://x/console/integrations", nil)
	r.AddCookie(c)
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if !strings.Contains(w.Body.String(), `href="/console/static/console.css"`) || !strings.Contains(w.Body.String(), `href="/console/alerts"`) {
		t.Error("links do not carry the base path")
	}
}

// TestLoginRateLimit: an address may fail ten sign-ins at once, then one every six seconds; a
// right key is refused too while the address is blocked; other addresses are not affected.
func TestLoginRateLimit(t *testing.T) {
	hs := newHarness(t)
	try := func(addr, key string) int {
		r := httptest.NewRequest("POST", "http://console.test/login", strings.NewReader(url.Values{"key": {key}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		r.RemoteAddr = addr + ":40000"
		w := httptest.NewRecorder()
		hs.h.ServeHTTP(w, r)
		return w.Code
	}
	for i := range 10 {
		if code := try("192.0.2.7", "idw_wrong"); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i+1, code)
		}
	}
	if code := try("192.0.2.7", "idw_wrong"); code != http.StatusTooManyRequests {
		t.Fatalf("11th failed attempt: %d, want 429", code)
	}
	if code := try("192.0.2.7", consoletest.AdminKey); code != http.StatusTooManyRequests {
		t.Errorf("right key while blocked: %d, want 429", code)
	}
	if code := try("192.0.2.8", consoletest.AdminKey); code != http.StatusSeeOther {
		t.Errorf("another address: %d, want 303", code)
	}
	hs.clock.add(6 * time.Second)
	if code := try("192.0.2.7", consoletest.AdminKey); code != http.StatusSeeOther {
		t.Errorf("after six seconds: %d, want 303", code)
	}
	// Successful sign-ins cost nothing.
	for range 20 {
		if code := try("192.0.2.9", consoletest.AdminKey); code != http.StatusSeeOther {
			t.Fatalf("repeated good sign-in: %d", code)
		}
	}
}

// TestIncidentPages: the list by risk, the timeline with each alert's points, a change and a
// suppression recorded under the signed-in key, and a refused suppression shown on the page.
func TestIncidentPages(t *testing.T) {
	hs := newHarness(t)
	ck := hs.login(consoletest.AnalystKey)
	incs, err := hs.fake.Incidents(t.Context(), console.IncidentQuery{})
	if err != nil || len(incs) < 2 || incs[0].Risk < incs[1].Risk {
		t.Fatalf("incidents by risk: %+v %v", incs, err)
	}
	list := hs.do("GET", "/incidents", nil, ck).Body.String()
	if strings.Index(list, incs[0].Entity) > strings.Index(list, incs[1].Entity) {
		t.Error("the list is not highest risk first")
	}
	id := incs[0].ID
	page := hs.do("GET", "/incidents/"+id, nil, ck).Body.String()
	for _, want := range []string{"Timeline", "risk:", "Attack stages reached", "Suppress a benign pattern", incs[0].Rules[0]} {
		if !strings.Contains(page, want) {
			t.Errorf("incident page lacks %q", want)
		}
	}
	w := hs.do("POST", "/incidents/"+id+"/update", url.Values{"status": {"resolved"}, "assignee": {"kim"}, "note": {"reset done"}}, ck)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("update: %d %s", w.Code, w.Body)
	}
	d, _ := hs.fake.Incident(t.Context(), id)
	if d.Status != "resolved" || d.Assignee != "kim" || d.History[len(d.History)-1].By != "soc-analyst" {
		t.Fatalf("after update: %+v", d)
	}
	w = hs.do("POST", "/incidents/"+id+"/suppress", url.Values{"rule": {"not_a_rule_of_it"}, "entity": {d.Entity}, "for": {"24h"}, "reason": {"x"}}, ck)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "raised no alert in this incident") {
		t.Fatalf("a refused suppression: %d %s", w.Code, w.Body)
	}
	w = hs.do("POST", "/incidents/"+id+"/suppress", url.Values{"rule": {d.Rules[0]}, "entity": {d.Entity}, "for": {"24h"}, "reason": {""}}, ck)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Give a reason") {
		t.Fatalf("a suppression without a reason: %d %s", w.Code, w.Body)
	}
	if w = hs.do("GET", "/incidents/nope", nil, ck); w.Code != http.StatusNotFound {
		t.Fatalf("unknown incident: %d", w.Code)
	}
}

// TestRespondFromAlert: a dry run shows the Okta calls on the alert page and changes nothing; an
// analyst may propose but not run now; a proposal goes to its page.
func TestRespondFromAlert(t *testing.T) {
	hs := newHarness(t)
	analyst := hs.login(consoletest.AnalystKey)
	before := len(hs.fake.Actions())
	w := hs.do("POST", "/alerts/al-51c0/respond", url.Values{"action": {"suspend"}, "mode": {"dry-run"}}, analyst)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Okta calls it would make") || len(hs.fake.Actions()) != before {
		t.Fatalf("dry run: %d, actions %v", w.Code, hs.fake.Actions()[before:])
	}
	w = hs.do("POST", "/alerts/al-51c0/respond", url.Values{"action": {"suspend"}, "mode": {"run"}}, analyst)
	if !strings.Contains(w.Body.String(), "needs the admin role") || len(hs.fake.Actions()) != before {
		t.Fatalf("an analyst running now: %d %s", w.Code, w.Body)
	}
	w = hs.do("POST", "/alerts/al-51c0/respond", url.Values{"action": {"deactivate"}, "mode": {"propose"}}, analyst)
	if !strings.Contains(w.Body.String(), "must be confirmed") || len(hs.fake.Actions()) != before {
		t.Fatalf("an unconfirmed deactivation: %d", w.Code)
	}
	w = hs.do("POST", "/alerts/al-51c0/respond", url.Values{"action": {"clear_sessions"}, "mode": {"propose"}, "reason": {"INC-9"}}, analyst)
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "/responses/ra-") {
		t.Fatalf("proposal: %d %v", w.Code, w.Header())
	}
	page := hs.do("GET", w.Header().Get("Location"), nil, analyst).Body.String()
	if !strings.Contains(page, "Approve and run") {
		t.Error("the proposal's page offers no decision")
	}
	// An alert about an address (a spray from one source) offers no response on a user.
	if body := hs.do("GET", "/alerts/al-2210", nil, analyst).Body.String(); strings.Contains(body, "Respond in Okta") {
		t.Error("a response form on an alert about an address")
	}
	viewer := hs.login(consoletest.ViewerKey)
	if body := hs.do("GET", "/alerts/al-51c0", nil, viewer).Body.String(); strings.Contains(body, "Respond in Okta") {
		t.Error("a viewer sees the response form")
	}
}

// TestIdentityPages: the admins filter, the AD link, and posture findings with their fix.
func TestIdentityPages(t *testing.T) {
	hs := newHarness(t)
	ck := hs.login(consoletest.ViewerKey)
	body := hs.do("GET", "/identities?admins=on", nil, ck).Body.String()
	if !strings.Contains(body, "svc-sync@acme.com") || strings.Contains(body, "contractor7@acme.com") || !strings.Contains(body, "S-1-5-21-") {
		t.Errorf("admins only: %.2000s", body)
	}
	if body = hs.do("GET", "/identities?unlinked=on", nil, ck).Body.String(); !strings.Contains(body, "contractor7@acme.com") || strings.Contains(body, "dana.ruiz") {
		t.Error("users without the AD link")
	}
	if body = hs.do("GET", "/posture", nil, ck).Body.String(); !strings.Contains(body, "Fix:") || !strings.Contains(body, "FastPass") {
		t.Error("posture findings without their fix")
	}
}
