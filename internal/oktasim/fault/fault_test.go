package fault

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
)

const logsBody = `{"events":[{"uuid":"a"},{"uuid":"b"}],"next":"cursor"}`

// org is a stand-in for the oktasim server behind the injector.
func org() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Rate-Limit-Limit", "120")
		w.Header().Set("Content-Length", strconv.Itoa(len(logsBody)))
		_, _ = io.WriteString(w, logsBody)
	})
}

type env struct {
	t       *testing.T
	clock   *clock.Manual
	inj     *Injector
	srv     *httptest.Server
	mu      sync.Mutex
	revokes []RevokeRequest
	rotated []bool
}

func newEnv(t *testing.T, mod func(*Config)) *env {
	e := &env{t: t, clock: clock.NewManual(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))}
	cfg := Config{
		Clock: e.clock,
		Revoke: func(r RevokeRequest) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.revokes = append(e.revokes, r)
			return nil
		},
		RotateNonce: func(inv bool) { e.mu.Lock(); e.rotated = append(e.rotated, inv); e.mu.Unlock() },
	}
	if mod != nil {
		mod(&cfg)
	}
	e.inj = New(cfg)
	mux := http.NewServeMux()
	mux.Handle("/_sim/faults", e.inj.ControlHandler())
	mux.Handle("/_sim/faults/", e.inj.ControlHandler())
	mux.Handle("/", org())
	e.srv = httptest.NewServer(e.inj.Handler(mux))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) add(r Rule) Rule {
	e.t.Helper()
	got, err := e.inj.Add(r)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) get(method, path string) reply {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("reading body: %v", err)
	}
	return reply{res.StatusCode, res.Header, b}
}

func TestStatusFaultScopedByPathMethodAndCount(t *testing.T) {
	e := newEnv(t, nil)
	e.add(Rule{Kind: KindStatus, Status: 503, Path: "/api/v1/logs", Method: "GET", Count: 2})
	if r := e.get("GET", "/api/v1/users"); r.status != 200 {
		t.Fatalf("other path faulted: %d", r.status)
	}
	if r := e.get("POST", "/api/v1/logs"); r.status != 200 {
		t.Fatalf("other method faulted: %d", r.status)
	}
	for i := range 2 {
		r := e.get("GET", "/api/v1/logs?limit=10")
		if r.status != 503 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || r.header.Get("X-Okta-Request-Id") == "" {
			t.Fatalf("request %d: %d %v", i, r.status, r.header)
		}
	}
	if r := e.get("GET", "/api/v1/logs"); r.status != 200 || string(r.body) != logsBody {
		t.Fatalf("fault outlived its count: %d", r.status)
	}
	if n := len(e.inj.List()); n != 0 {
		t.Fatalf("%d rules left", n)
	}
}

func TestStatus500IsOktaError(t *testing.T) {
	e := newEnv(t, nil)
	e.add(Rule{Kind: KindStatus})
	r := e.get("GET", "/api/v1/logs")
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil || r.status != 500 || body["errorCode"] != "E0000009" || body["errorId"] == "" {
		t.Fatalf("got %d %s", r.status, r.body)
	}
}

func TestRuleDuration(t *testing.T) {
	e := newEnv(t, nil)
	added := e.add(Rule{Kind: KindStatus, Duration: Duration(time.Minute)})
	if added.Expires == nil || !added.Expires.Equal(e.clock.Now().Add(time.Minute)) {
		t.Fatalf("expires = %v", added.Expires)
	}
	if r := e.get("GET", "/"); r.status != 500 {
		t.Fatalf("got %d", r.status)
	}
	e.clock.Advance(time.Minute)
	if r := e.get("GET", "/"); r.status != 200 {
		t.Fatalf("fault outlived its duration: %d", r.status)
	}
}

func TestSlowFaultOutlastsClientTimeout(t *testing.T) {
	e := newEnv(t, nil)
	e.add(Rule{Kind: KindSlow, Delay: Duration(time.Hour), Path: "/api/v1/logs"})
	client := e.srv.Client()
	client.Timeout = 100 * time.Millisecond
	_, err := client.Get(e.srv.URL + "/api/v1/logs")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a client timeout", err)
	}
}

func TestSlowFaultThenServes(t *testing.T) {
	fired := make(chan time.Time, 1)
	var asked time.Duration
	e := newEnv(t, func(c *Config) {
		c.After = func(d time.Duration) <-chan time.Time { asked = d; fired <- time.Time{}; return fired }
	})
	e.add(Rule{Kind: KindSlow, Delay: Duration(45 * time.Second), Count: 1})
	if r := e.get("GET", "/api/v1/logs"); r.status != 200 || string(r.body) != logsBody || asked != 45*time.Second {
		t.Fatalf("got %d %q after %v", r.status, r.body, asked)
	}
}

func TestTruncatedBody(t *testing.T) {
	e := newEnv(t, nil)
	e.add(Rule{Kind: KindTruncate, Path: "/api/v1/logs"})
	r := e.get("GET", "/api/v1/logs")
	var v any
	if r.status != 200 || len(r.body) == 0 || !bytes.HasPrefix([]byte(logsBody), r.body) || len(r.body) >= len(logsBody) {
		t.Fatalf("got %d %q", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &v); err == nil || !strings.Contains(err.Error(), "unexpected end") {
		t.Fatalf("truncated body decoded: %v", err)
	}
}

func TestMalformedBody(t *testing.T) {
	e := newEnv(t, nil)
	e.add(Rule{Kind: KindMalformed})
	r := e.get("GET", "/api/v1/logs")
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" || json.Valid(r.body) {
		t.Fatalf("got %d %q", r.status, r.body)
	}
	for in, want := range map[string]string{"[]": "[,]", "{}\n": "{,}", "": "{", "null": "null,"} {
		if got := string(malform([]byte(in))); got != want || json.Valid([]byte(got)) {
			t.Errorf("malform(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestForeignLink(t *testing.T) {
	self := `<https://acme.okta.com/api/v1/logs?since=x&limit=5>; rel="self"`
	next := `<https://acme.okta.com/api/v1/logs?after=abc&limit=5>; rel="next"`
	got := foreignLinks([]string{self, next}, "http://evil.test:8080/")
	if got[0] != self || got[1] != `<http://evil.test:8080/api/v1/logs?after=abc&limit=5>; rel="next"` {
		t.Fatalf("foreign links: %q", got)
	}
	if got := foreignLinks([]string{next}, ""); got[0] != `<https://foreign.example/api/v1/logs?after=abc&limit=5>; rel="next"` {
		t.Fatalf("default origin: %q", got)
	}
	e := newEnv(t, nil)
	e.add(Rule{Kind: KindForeignLink, Path: "/api/v1/logs", Count: 1})
	r := e.get("GET", "/api/v1/logs")
	if r.status != 200 || string(r.body) != logsBody {
		t.Fatalf("got %d %q", r.status, r.body)
	}
	if err := (Rule{Kind: KindForeignLink, Origin: "foreign.example/x"}).Validate(); err == nil {
		t.Error("an origin without a scheme was accepted")
	}
	if r, err := ParseRule("kind=foreign_link,origin=https://x.test,count=2"); err != nil || r.Origin != "https://x.test" {
		t.Fatalf("parse: %+v %v", r, err)
	}
}

func TestRateLimitStorm(t *testing.T) {
	e := newEnv(t, nil)
	e.add(Rule{Kind: KindRateLimit, Path: "/api/v1/logs", Limit: 120, Count: 3})
	now := e.clock.Now()
	for range 3 {
		r := e.get("GET", "/api/v1/logs")
		var body map[string]any
		_ = json.Unmarshal(r.body, &body)
		h := r.header
		if r.status != 429 || h.Get("X-Rate-Limit-Limit") != "120" || h.Get("X-Rate-Limit-Remaining") != "0" ||
			h.Get("X-Rate-Limit-Reset") != strconv.FormatInt(now.Add(time.Minute).Unix(), 10) ||
			h.Get("Date") != now.Format(http.TimeFormat) || h.Get("X-Okta-Request-Id") == "" ||
			body["errorCode"] != "E0000047" || body["errorSummary"] != "API call exceeded rate limit due to too many requests." {
			t.Fatalf("got %d %v %s", r.status, h, r.body)
		}
	}
	if r := e.get("GET", "/api/v1/logs"); r.status != 200 {
		t.Fatalf("storm outlived its count: %d", r.status)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	e := newEnv(t, nil)
	e.add(Rule{Kind: KindConcurrency, Count: 1})
	r := e.get("GET", "/api/v1/users")
	h := r.header
	if r.status != 429 || h.Get("X-Rate-Limit-Limit") != "0" || h.Get("X-Rate-Limit-Remaining") != "0" ||
		h.Get("X-Rate-Limit-Reset") != strconv.FormatInt(e.clock.Now().Add(5*time.Second).Unix(), 10) ||
		!strings.Contains(string(r.body), `"E0000047"`) {
		t.Fatalf("got %d %v %s", r.status, h, r.body)
	}
}

func TestClockSkew(t *testing.T) {
	e := newEnv(t, nil)
	base := e.clock
	skewed := e.inj.Clock(base)
	e.add(Rule{Kind: KindSkew, Skew: Duration(-10 * time.Minute), Duration: Duration(time.Hour)})
	if e.inj.Skew() != -10*time.Minute || !skewed.Now().Equal(base.Now().Add(-10*time.Minute)) {
		t.Fatalf("skew = %v", e.inj.Skew())
	}
	r := e.get("GET", "/api/v1/logs")
	if r.header.Get("Date") != base.Now().Add(-10*time.Minute).Format(http.TimeFormat) || r.status != 200 {
		t.Fatalf("Date = %q", r.header.Get("Date"))
	}
	e.clock.Advance(time.Hour)
	if e.inj.Skew() != 0 || !skewed.Now().Equal(base.Now()) {
		t.Fatal("skew outlived its duration")
	}
}

func TestRevokeAndNonceRotationCallbacks(t *testing.T) {
	e := newEnv(t, nil)
	e.add(Rule{Kind: KindRevoke, Target: TargetKey, ClientID: "0oa1", KeyID: "k1", Path: "/oauth2/v1/token", Count: 1})
	e.add(Rule{Kind: KindNonceRotate, Invalidate: true, Path: "/oauth2/v1/token", Count: 1})
	if r := e.get("GET", "/api/v1/logs"); r.status != 200 || len(e.revokes) != 0 {
		t.Fatal("revoked on another path")
	}
	if r := e.get("POST", "/oauth2/v1/token"); r.status != 200 {
		t.Fatalf("request did not pass through: %d", r.status)
	}
	e.get("POST", "/oauth2/v1/token")
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.revokes) != 1 || e.revokes[0].Target != "key" || e.revokes[0].KeyID != "k1" || e.revokes[0].Request == nil {
		t.Fatalf("revokes = %+v", e.revokes)
	}
	if len(e.rotated) != 1 || !e.rotated[0] {
		t.Fatalf("rotations = %v", e.rotated)
	}
}

func TestAddRejectsUnwiredSideEffects(t *testing.T) {
	inj := New(Config{})
	if _, err := inj.Add(Rule{Kind: KindRevoke, Target: TargetToken}); err == nil {
		t.Fatal("revoke accepted without a Revoke callback")
	}
	if _, err := inj.Add(Rule{Kind: KindNonceRotate}); err == nil {
		t.Fatal("nonce rotation accepted without a callback")
	}
}

func TestRuleValidate(t *testing.T) {
	bad := []Rule{
		{Kind: "explode"}, {Kind: KindStatus, Status: 404}, {Kind: KindStatus, Path: "api"},
		{Kind: KindStatus, Method: "get"}, {Kind: KindStatus, Count: -1}, {Kind: KindSlow},
		{Kind: KindSkew}, {Kind: KindRevoke, Target: "user"}, {Kind: KindRevoke, Target: TargetKey, ClientID: "x"},
		{Kind: KindRevoke, Target: TargetApp},
	}
	for _, r := range bad {
		if err := r.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", r)
		}
	}
}

func TestParseRule(t *testing.T) {
	r, err := ParseRule("kind=status, path=/api/v1/logs,status=503,count=3,duration=2m")
	if err != nil || r.Kind != KindStatus || r.Path != "/api/v1/logs" || r.Status != 503 || r.Count != 3 || r.Duration != Duration(2*time.Minute) {
		t.Fatalf("got %+v %v", r, err)
	}
	r, err = ParseRule("kind=dpop_nonce_rotation,invalidate=true")
	if err != nil || !r.Invalidate {
		t.Fatalf("got %+v %v", r, err)
	}
	for _, s := range []string{"", "kind", "kind=status,count=x", "kind=slow,delay=soon", "kind=status,color=red", "kind=skew,invalidate=maybe"} {
		if _, err := ParseRule(s); err == nil {
			t.Errorf("ParseRule(%q) = nil error", s)
		}
	}
}

func FuzzParseRule(f *testing.F) {
	f.Add("kind=status,path=/api/v1/logs,status=503,count=3")
	f.Add("kind=clock_skew,skew=-10m,duration=1h")
	f.Add("kind=foreign_link,origin=https://foreign.example,count=2")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err == nil && r.Validate() != nil {
			t.Fatalf("ParseRule accepted an invalid rule %+v", r)
		}
	})
}

func TestControlAPI(t *testing.T) {
	e := newEnv(t, nil)
	post := func(body string) reply {
		res, err := e.srv.Client().Post(e.srv.URL+"/_sim/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return reply{res.StatusCode, res.Header, b}
	}
	r := post(`{"kind":"status","path":"/","status":503,"duration":"10m"}`)
	var added Rule
	if err := json.Unmarshal(r.body, &added); r.status != 201 || err != nil || added.ID == "" || added.Expires == nil {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	// The control API itself is never faulted, even by a rule on "/".
	if r := e.get("GET", "/_sim/faults"); r.status != 200 || !strings.Contains(string(r.body), added.ID) {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if r := e.get("GET", "/_sim/faults/"+added.ID); r.status != 200 {
		t.Fatalf("get: %d", r.status)
	}
	for _, bad := range []string{`{"kind":"status","colour":"red"}`, `{"kind":"nope"}`, `{"kind":"slow","delay":5}`, `not json`, `{"kind":"status"}{"kind":"status"}`} {
		if r := post(bad); r.status != 400 || !strings.Contains(string(r.body), `"error"`) {
			t.Errorf("post %s: %d %s", bad, r.status, r.body)
		}
	}
	if r := e.get("DELETE", "/_sim/faults/"+added.ID); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	if r := e.get("DELETE", "/_sim/faults/"+added.ID); r.status != 404 {
		t.Fatalf("second delete: %d", r.status)
	}
	post(`{"kind":"truncate"}`)
	if r := e.get("DELETE", "/_sim/faults"); r.status != 204 || len(e.inj.List()) != 0 {
		t.Fatalf("clear: %d", r.status)
	}
	if r := e.get("PUT", "/_sim/faults"); r.status != 405 {
		t.Fatalf("PUT: %d", r.status)
	}
}

func FuzzForeignLinks(f *testing.F) {
	f.Add(`<https://acme.okta.com/api/v1/logs?after=abc>; rel="next"`, "https://x.test")
	f.Add(`>< rel="next"`, "")
	f.Fuzz(func(t *testing.T, v, origin string) {
		got := foreignLinks([]string{v}, origin)
		if len(got) != 1 {
			t.Fatalf("%d values out of 1", len(got))
		}
		if !strings.Contains(strings.ToLower(v), `rel="next"`) && got[0] != v {
			t.Fatalf("a value without rel=\"next\" changed: %q -> %q", v, got[0])
		}
	})
}
