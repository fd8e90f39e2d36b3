package oktasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/event"
)

// t0 is the emulated "now" tests start at.
var t0 = time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)

type testOrg struct {
	t     testing.TB
	srv   *Server
	clock *clock.Manual
	token string // Super Admin SSWS token
}

func newTestOrg(t testing.TB, cfg Config) *testOrg {
	t.Helper()
	clock := clock.NewManual(t0)
	cfg.Clock = clock
	if cfg.ControlKey == "" {
		cfg.ControlKey = "control-key"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, tok := s.Tokens().Add(APIToken{Name: "test", AdminID: "00uadmin", Roles: []Role{RoleSuperAdmin}})
	return &testOrg{t: t, srv: s, clock: clock, token: tok}
}

// get requests path (with query) as the Super Admin token.
func (o *testOrg) get(target string) *httptest.ResponseRecorder {
	return o.getAs(o.token, target)
}

func (o *testOrg) getAs(token, target string) *httptest.ResponseRecorder {
	o.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://acme.example"+target, nil)
	if token != "" {
		req.Header.Set("Authorization", "SSWS "+token)
	}
	rec := httptest.NewRecorder()
	o.srv.ServeHTTP(rec, req)
	return rec
}

// testEvent builds an event with a uuid derived from n.
func testEvent(n int, published time.Time, eventType string) *event.LogEvent {
	return &event.LogEvent{
		UUID:      fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
		Published: published,
		EventType: eventType,
		Version:   "0",
		Severity:  "INFO",
		Actor:     &event.Actor{ID: fmt.Sprintf("00u%017d", n%7), Type: "User", AlternateID: fmt.Sprintf("user%d@acme.example", n%7), DisplayName: "Jane Doe"},
		Client: &event.Client{IPAddress: "198.51.100.23", Zone: "null", Device: "Computer",
			UserAgent: &event.UserAgent{RawUserAgent: "Mozilla/5.0 Chrome/127.0.0.0", OS: "Mac OS X", Browser: "CHROME"}},
		Outcome:      &event.Outcome{Result: "SUCCESS"},
		DebugContext: &event.DebugContext{DebugData: map[string]any{"requestUri": "/idp/idx/authenticators/poll", "url": "/idp/idx/authenticators/poll?x=1"}},
		Transaction:  &event.Transaction{Type: "WEB", ID: fmt.Sprintf("tx%d", n)},
	}
}

// appendEvents appends n events, one per second ending at the current clock time.
func (o *testOrg) appendEvents(n int, eventType string) []*event.LogEvent {
	o.t.Helper()
	now := o.clock.Now()
	var evs []*event.LogEvent
	for i := range n {
		ev := testEvent(i, now.Add(-time.Duration(n-i)*time.Second), eventType)
		if err := o.srv.Append(ev); err != nil {
			o.t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// decodeEvents parses a logs response body into uuid/published pairs.
func decodeEvents(t testing.TB, rec *httptest.ResponseRecorder) []map[string]any {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	var out []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("body is not a JSON array: %v: %s", err, rec.Body)
	}
	return out
}

// links returns the Link header lines by rel.
func links(t testing.TB, h http.Header) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range h.Values("Link") {
		u, rel, ok := strings.Cut(l, ">; rel=")
		if !ok || !strings.HasPrefix(u, "<") {
			t.Fatalf("malformed Link %q", l)
		}
		out[strings.Trim(rel, `"`)] = strings.TrimPrefix(u, "<")
	}
	return out
}

// pathOf strips the scheme and host from an absolute URL.
func pathOf(u string) string {
	i := strings.Index(u, "://")
	j := strings.Index(u[i+3:], "/")
	return u[i+3+j:]
}

// wantAPIError checks status and Okta error code.
func wantAPIError(t testing.TB, rec *httptest.ResponseRecorder, status int, code string) *APIError {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	var e APIError
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("body is not an error object: %v: %s", err, rec.Body)
	}
	if e.ErrorCode != code || e.ErrorLink != code || !strings.HasPrefix(e.ErrorID, "oae") || e.ErrorSummary == "" || e.ErrorCauses == nil {
		t.Fatalf("error object %+v, want code %s with summary, link, id and causes", e, code)
	}
	return &e
}
