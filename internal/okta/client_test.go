package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/idwatch/idwatch/internal/clock"
)

func TestRetriesTransientFailuresWithFreshProofs(t *testing.T) {
	clk := clock.NewManual(t0)
	f := newFakeOkta(t, clk)
	key := f.withServiceApp(true)
	c := newTestClient(t, f, serviceApp(t, f, key))
	var fails atomic.Int32
	fails.Store(2)
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/v1/logs" && fails.Add(-1) >= 0 {
			writeErr(w, 503, `{"errorCode":"E0000009","errorSummary":"Internal Server Error","errorId":"oae5"}`)
			return true
		}
		return false
	}
	u, _ := c.LogsURL(LogsQuery{})
	if err := drive(t, clk, func() error { _, err := c.Logs(context.Background(), u); return err }); err != nil {
		t.Fatal(err)
	}
	var logs []*http.Request
	for _, r := range f.requestLog() {
		if r.URL.Path == "/api/v1/logs" {
			logs = append(logs, r)
		}
	}
	if len(logs) != 3 {
		t.Fatalf("log requests = %d, want 3", len(logs))
	}
	seen := map[string]bool{}
	for i, r := range logs {
		jti := proofClaims(t, r).JTI
		if seen[jti] {
			t.Errorf("attempt %d reuses DPoP jti", i)
		}
		seen[jti] = true
		wantCount := ""
		if i > 0 {
			wantCount = fmt.Sprint(i)
		}
		if got := r.Header.Get("X-Okta-Retry-Count"); got != wantCount {
			t.Errorf("attempt %d X-Okta-Retry-Count = %q, want %q", i, got, wantCount)
		}
		if i > 0 && !strings.HasPrefix(r.Header.Get("X-Okta-Retry-For"), "req-") {
			t.Errorf("attempt %d lacks X-Okta-Retry-For", i)
		}
	}
}

func TestNoRetryOnClientErrors(t *testing.T) {
	cases := []struct {
		status int
		body   string
		kind   ErrorKind
	}{
		{400, `{"errorCode":"E0000053","errorSummary":"Invalid parameter: The since parameter is over 180 days prior to the current day."}`, KindValidation},
		{403, `{"errorCode":"E0000006","errorSummary":"You do not have permission to perform the requested action"}`, KindPermission},
		{404, `{"errorCode":"E0000007","errorSummary":"Not found: Resource not found: 00u1 (User)"}`, KindNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.kind.String(), func(t *testing.T) {
			_, f, c := fixture(t)
			var n atomic.Int32
			f.hook = func(w http.ResponseWriter, r *http.Request) bool {
				n.Add(1)
				writeErr(w, tc.status, tc.body)
				return true
			}
			u, _ := c.LogsURL(LogsQuery{})
			_, err := c.Logs(context.Background(), u)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Kind != tc.kind || apiErr.Status != tc.status || apiErr.Fix() == "" {
				t.Fatalf("err = %v (%T), want %v", err, err, tc.kind)
			}
			if n.Load() != 1 {
				t.Errorf("requests = %d, want 1 (never retry a 4xx)", n.Load())
			}
			if strings.Contains(err.Error(), f.apiToken) {
				t.Error("error leaks the API token")
			}
		})
	}
}

func TestLifecycleNotRetriedOn5xxButSessionsAre(t *testing.T) {
	clk, f, c := fixture(t)
	var n atomic.Int32
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		n.Add(1)
		writeErr(w, 500, `{"errorCode":"E0000009","errorSummary":"Internal Server Error"}`)
		return true
	}
	if err := c.SuspendUser(context.Background(), "00u1"); !errors.Is(err, KindServer) {
		t.Fatalf("err = %v", err)
	}
	if n.Load() != 1 {
		t.Errorf("suspend attempts = %d, want 1", n.Load())
	}
	n.Store(0)
	err := drive(t, clk, func() error { return c.ClearSessions(context.Background(), "00u1", true) })
	if !errors.Is(err, KindServer) || n.Load() != 5 {
		t.Errorf("clear sessions: err=%v attempts=%d, want server error after 5 attempts", err, n.Load())
	}
}

func TestNetworkErrorsRetried(t *testing.T) {
	clk, f, c := fixture(t)
	var n atomic.Int32
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if n.Add(1) > 1 {
			return false
		}
		// Promise a long body, send half, drop the connection.
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, `[{"uuid":"a"`)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return true
	}
	u, _ := c.LogsURL(LogsQuery{})
	p, err := drive(t, clk, func() *pageOrErr { p, err := c.Logs(context.Background(), u); return &pageOrErr{p, err} }).get()
	if err != nil || p == nil || n.Load() != 2 {
		t.Fatalf("p=%v err=%v attempts=%d, want success on the second attempt", p, err, n.Load())
	}
}

type pageOrErr struct {
	p   *Page
	err error
}

func (p *pageOrErr) get() (*Page, error) { return p.p, p.err }

func TestLogsPageDecoding(t *testing.T) {
	cases := []struct {
		name, body string
		wantErr    bool
		items      int
	}{
		{"empty", `[]`, false, 0},
		{"two", `[{"uuid":"a"},{"uuid":"b"}]`, false, 2},
		{"truncated", `[{"uuid":"a"},{"uu`, true, 0},
		{"truncated between items", `[{"uuid":"a"},`, true, 0},
		{"object", `{"errorCode":"E0000009"}`, true, 0},
		{"null", `null`, true, 0},
		{"trailing garbage", `[{"uuid":"a"}] x`, true, 0},
		{"non-object element", `[{"uuid":"a"}, 3]`, true, 0},
		{"empty body", ``, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewManual(t0)
			f := newFakeOkta(t, clk)
			f.logs = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add("Link", "<"+f.srv.URL+"/api/v1/logs?after=1>; rel=\"next\"")
				_, _ = io.WriteString(w, tc.body)
			}
			c := newTestClient(t, f, nil)
			u, _ := c.LogsURL(LogsQuery{})
			p, err := c.Logs(context.Background(), u)
			if tc.wantErr {
				if !errors.Is(err, ErrMalformedPage) || p != nil {
					t.Fatalf("p=%v err=%v, want ErrMalformedPage and no page", p, err)
				}
				return
			}
			if err != nil || len(p.Items) != tc.items || p.Next != f.srv.URL+"/api/v1/logs?after=1" || p.NextIsSelf {
				t.Fatalf("p=%+v err=%v", p, err)
			}
		})
	}
}

func TestHostileNextLinkIsRefused(t *testing.T) {
	clk := clock.NewManual(t0)
	f := newFakeOkta(t, clk)
	// An attacker-controlled listener that must never be contacted.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var contacted atomic.Bool
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			contacted.Store(true)
			_ = conn.Close()
		}
	}()
	evil := "http://" + ln.Addr().String() + "/api/v1/logs?after=x"
	for _, next := range []string{evil, "http://localhost" + strings.TrimPrefix(f.srv.URL, "http://127.0.0.1") + "/api/v1/logs", "https://" + strings.TrimPrefix(f.srv.URL, "http://") + "/api/v1/logs", "//evil.example/api/v1/logs", "http://user@" + strings.TrimPrefix(f.srv.URL, "http://") + "/x"} {
		f.logs = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Link", "<"+f.srv.URL+"/api/v1/logs>; rel=\"self\", <"+next+">; rel=\"next\"")
			_, _ = io.WriteString(w, "[]")
		}
		c := newTestClient(t, f, nil)
		u, _ := c.LogsURL(LogsQuery{})
		_, err := c.Logs(context.Background(), u)
		var oe *OriginError
		var ne *NextLinkError
		if !errors.As(err, &oe) || !errors.As(err, &ne) {
			t.Errorf("next %q: err = %v, want a NextLinkError wrapping an OriginError", next, err)
		}
		// A stored cursor off the org is the request's fault, not an answer's.
		if _, err := c.Logs(context.Background(), next); !errors.As(err, &oe) || errors.As(err, &ne) {
			t.Errorf("cursor %q: err = %v, want OriginError", next, err)
		}
	}
	// A next link on the org that leaves the System Log could not be polled either.
	f.logs = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Link", "<"+f.srv.URL+"/api/v1/users?after=x>; rel=\"next\"")
		_, _ = io.WriteString(w, "[]")
	}
	c := newTestClient(t, f, nil)
	u, _ := c.LogsURL(LogsQuery{})
	var ne *NextLinkError
	if _, err := c.Logs(context.Background(), u); !errors.As(err, &ne) || !strings.Contains(err.Error(), "/api/v1/users") {
		t.Errorf("next link to another path: err = %v, want NextLinkError", err)
	}
	if contacted.Load() {
		t.Error("the foreign host was contacted")
	}
}

func TestUsersAndInventoryCalls(t *testing.T) {
	_, f, c := fixture(t)
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if !f.authorize(w, r, f.now()) {
			return true
		}
		w.Header().Set("Content-Type", "application/json")
		base := f.srv.URL
		switch {
		case r.URL.Path == "/api/v1/users" && r.URL.Query().Get("after") == "":
			if r.URL.Query().Get("search") != `status pr` || r.URL.Query().Get("limit") != "200" {
				t.Errorf("users query = %s", r.URL.RawQuery)
			}
			w.Header().Add("Link", "<"+base+"/api/v1/users?limit=200>; rel=\"self\"")
			w.Header().Add("Link", "<"+base+"/api/v1/users?after=00u2&limit=200>; rel=\"next\"")
			_, _ = io.WriteString(w, `[{"id":"00u1","status":"ACTIVE","created":"2023-04-04T15:56:05.000Z","lastLogin":null,"profile":{"login":"a@acme.com","objectSid":"S-1-5-21"}}]`)
		case r.URL.Path == "/api/v1/users":
			w.Header().Add("Link", "<"+base+r.URL.RequestURI()+">; rel=\"self\"")
			_, _ = io.WriteString(w, `[{"id":"00u2","status":"SUSPENDED","profile":{"login":"b@acme.com"}}]`)
		case r.URL.Path == "/api/v1/users/jdoe@acme.com":
			_, _ = io.WriteString(w, `{"id":"00u3","status":"ACTIVE","profile":{"login":"jdoe@acme.com"},"credentials":{"provider":{"type":"ACTIVE_DIRECTORY","name":"corp"}}}`)
		case r.URL.Path == "/api/v1/users/00u1/roles":
			_, _ = io.WriteString(w, `[{"id":"ra1","label":"Read-only Administrator","type":"READ_ONLY_ADMIN","status":"ACTIVE","assignmentType":"USER"},{"id":"ra2","type":"CUSTOM","role":"cr0abc","resource-set":"iam1","assignmentType":"GROUP"}]`)
		case r.URL.Path == "/api/v1/meta/schemas/user/default":
			_, _ = io.WriteString(w, `{"id":"x","name":"user","definitions":{"base":{"properties":{"login":{"title":"Username","type":"string"}}},"custom":{"properties":{"ObjectSid":{"title":"SID","type":"string"}}}}}`)
		case r.URL.Path == "/api/v1/groups":
			_, _ = io.WriteString(w, `[{"id":"00g1","type":"OKTA_GROUP","profile":{"name":"Admins"}}]`)
		case r.Method == "POST" && r.URL.Path == "/api/v1/users/00u1/lifecycle/expire_password":
			_, _ = io.WriteString(w, `{"id":"00u1","status":"PASSWORD_EXPIRED"}`)
		case r.Method == "POST" && strings.HasPrefix(r.URL.Path, "/api/v1/users/00u1/lifecycle/"):
			if r.ContentLength != 0 {
				t.Errorf("lifecycle body length %d", r.ContentLength)
			}
			w.WriteHeader(200)
		case r.Method == "DELETE" && r.URL.Path == "/api/v1/users/00u1/sessions":
			if r.URL.Query().Get("oauthTokens") != "true" {
				t.Errorf("sessions query = %s", r.URL.RawQuery)
			}
			w.WriteHeader(204)
		default:
			return false
		}
		return true
	}
	ctx := context.Background()
	var users []User
	if err := c.ListUsers(ctx, UsersQuery{Search: "status pr"}, func(p []User) error { users = append(users, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].ProfileString("objectSid") != "S-1-5-21" || users[1].Status != "SUSPENDED" || users[0].LastLogin != nil || users[0].Created == nil || len(users[0].Raw) == 0 {
		t.Fatalf("users = %+v", users)
	}
	u, err := c.GetUser(ctx, "jdoe@acme.com")
	if err != nil || u.ID != "00u3" || u.Credentials.Provider.Type != "ACTIVE_DIRECTORY" {
		t.Fatalf("GetUser = %+v, %v", u, err)
	}
	roles, err := c.ListUserRoles(ctx, "00u1")
	if err != nil || len(roles) != 2 || roles[1].CustomRole != "cr0abc" || roles[1].ResourceSet != "iam1" {
		t.Fatalf("roles = %+v, %v", roles, err)
	}
	s, err := c.GetUserSchema(ctx, "")
	if err != nil || !s.HasCustom("ObjectSid") || s.HasCustom("objectsid") || s.Base["login"].Title != "Username" {
		t.Fatalf("schema = %+v, %v", s, err)
	}
	var groups []Group
	if err := c.ListGroups(ctx, GroupsQuery{}, func(p []Group) error { groups = append(groups, p...); return nil }); err != nil || len(groups) != 1 {
		t.Fatalf("groups = %+v, %v", groups, err)
	}
	for _, act := range []func(context.Context, string) error{c.SuspendUser, c.UnsuspendUser, c.ResetFactors} {
		if err := act(ctx, "00u1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.DeactivateUser(ctx, "00u1", false); err != nil {
		t.Fatal(err)
	}
	if u, err := c.ExpirePassword(ctx, "00u1"); err != nil || u.Status != "PASSWORD_EXPIRED" {
		t.Fatalf("expire = %+v, %v", u, err)
	}
	if err := c.ClearSessions(ctx, "00u1", true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, "../groups"); err == nil {
		t.Error("a path-traversing user id was accepted")
	}
	if _, err := c.GetUser(ctx, "00uMISSING"); !errors.Is(err, KindNotFound) {
		t.Errorf("missing user err = %v", err)
	}
	// Lanes: the lifecycle actions went through the response lane, the reads through inventory.
	st := c.Governor().Stats()
	if st.Lanes[LaneResponse].Requests != 6 || st.Lanes[LaneInventory].Requests < 6 {
		t.Errorf("lanes = %+v", st.Lanes)
	}
}

func TestPaginateStopsOnRepeatedNext(t *testing.T) {
	_, f, c := fixture(t)
	var n atomic.Int32
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		n.Add(1)
		w.Header().Add("Link", "<"+f.srv.URL+"/api/v1/groups?after=a>; rel=\"next\"")
		_, _ = io.WriteString(w, `[{"id":"00g1"}]`)
		return true
	}
	pages := 0
	err := c.Paginate(context.Background(), "/api/v1/groups", nil, func(p *Page) error { pages++; return nil })
	if err != nil || pages != 2 || n.Load() != 2 {
		t.Fatalf("err=%v pages=%d requests=%d, want 2 pages then stop on the repeated link", err, pages, n.Load())
	}
}

func TestLogsQuery(t *testing.T) {
	_, f, c := fixture(t)
	u, err := c.LogsURL(LogsQuery{Since: t0.Add(-90 * 60e9), Filter: `eventType eq "user.session.start"`})
	if err != nil {
		t.Fatal(err)
	}
	want := f.srv.URL + "/api/v1/logs?filter=eventType+eq+%22user.session.start%22&limit=1000&since=2026-03-01T10%3A30%3A00.000Z&sortOrder=ASCENDING"
	if u != want {
		t.Errorf("LogsURL = %s\nwant      %s", u, want)
	}
	for _, q := range []LogsQuery{{Limit: 1001}, {Q: strings.Repeat("a", 41)}, {Since: t0, Until: t0}} {
		if _, err := c.LogsURL(q); err == nil {
			t.Errorf("%+v: want error", q)
		}
	}
	if _, err := c.Logs(context.Background(), f.srv.URL+"/api/v1/users"); err == nil {
		t.Error("a cursor off /api/v1/logs was accepted")
	}
	_ = json.Valid
}

func TestUntrustedCertificateIsNotRetried(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	clk := clock.NewManual(t0)
	c, err := New(Config{OrgURL: srv.URL, Clock: clk, Logger: slog.New(slog.DiscardHandler), Credentials: Credentials{APIToken: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := c.LogsURL(LogsQuery{})
	_, err = c.Logs(context.Background(), u)
	if err == nil || !strings.Contains(err.Error(), "not trusted") {
		t.Fatalf("err = %v, want the TLS trust hint without retries", err)
	}
	if clk.Timers() != 0 {
		t.Error("a backoff was scheduled for a certificate error")
	}
}

func TestOversizedPageIsNotRetried(t *testing.T) {
	clk := clock.NewManual(t0)
	f := newFakeOkta(t, clk)
	c := newTestClient(t, f, func(cfg *Config) { cfg.MaxResponseBytes = 10 })
	var n atomic.Int32
	f.logs = func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = io.WriteString(w, `[{"uuid":"aaaaaaaaaaaaaaaa"}]`)
	}
	u, _ := c.LogsURL(LogsQuery{})
	if _, err := c.Logs(context.Background(), u); err == nil || !strings.Contains(err.Error(), "lower the page size") || n.Load() != 1 {
		t.Fatalf("err = %v after %d requests, want one request and the page-size hint", err, n.Load())
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{OrgURL: "https://acme-admin.okta.com", Credentials: Credentials{APIToken: "t"}},
		{OrgURL: "https://acme.okta.com"},
		{OrgURL: "https://acme.okta.com", Credentials: Credentials{APIToken: "t"}, TokenRenewMargin: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%v) accepted a bad config", cfg)
		}
	}
}
