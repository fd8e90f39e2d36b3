package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
)

const secret = "Bearer hook-shared-secret-1234"

var now0 = time.Date(2026, 11, 22, 10, 0, 0, 123_000_000, time.UTC)

// got is one request the receiver saw.
type got struct {
	method string
	header http.Header
	body   []byte
}

// receiver is a hook endpoint in the test; respond decides each answer.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []got
	respond func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, got{r.Method, r.Header.Clone(), b})
		n := len(rc.reqs)
		rc.mu.Unlock()
		rc.respond(n, w, r)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []got {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]got(nil), rc.reqs...)
}

// echoVerification answers the verification GET correctly and POSTs with status.
func echoVerification(status int) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_ = json.NewEncoder(w).Encode(map[string]string{"verification": r.Header.Get("x-okta-verification-challenge")})
			return
		}
		w.WriteHeader(status)
	}
}

// verifyThen answers the verification GET correctly and hands POSTs to post.
func verifyThen(post func(n int, w http.ResponseWriter, r *http.Request)) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			echoVerification(http.StatusOK)(n, w, r)
			return
		}
		post(n, w, r)
	}
}

func newRegistry(t testing.TB, mod func(*Config)) (*Registry, *[]Failure) {
	var mu sync.Mutex
	fails := &[]Failure{}
	cfg := Config{
		OrgURL: "http://127.0.0.1:9999", Clock: clock.NewManual(now0), AllowHTTPLoopback: true,
		OnFailure: func(f Failure) { mu.Lock(); *fails = append(*fails, f); mu.Unlock() },
	}
	if mod != nil {
		mod(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g, fails
}

func hookDef(uri string, events ...string) Hook {
	return Hook{
		Name:   "SIEM connector",
		Events: Events{Type: "EVENT_TYPE", Items: events},
		Channel: Channel{Type: "HTTP", Version: "1.0.0", Config: ChannelConfig{
			URI:        uri,
			Headers:    []Header{{Key: "X-Other-Header", Value: "my-header-value"}},
			AuthScheme: &AuthScheme{Type: "HEADER", Key: "Authorization", Value: secret},
		}},
	}
}

// verifiedHook creates and verifies a hook on the receiver.
func verifiedHook(t *testing.T, g *Registry, rc *receiver, events ...string) Hook {
	t.Helper()
	h, err := g.Create(hookDef(rc.srv.URL+"/okta/hook", events...), "00uadmin")
	if err != nil {
		t.Fatal(err)
	}
	if h, err = g.Verify(context.Background(), h.ID); err != nil {
		t.Fatal(err)
	}
	return h
}

func event(uuid, typ string) json.RawMessage {
	return json.RawMessage(`{"uuid":"` + uuid + `","published":"2026-11-22T09:59:59.000Z","eventType":"` + typ + `","version":"0","severity":"INFO","displayMessage":"x","insertionTimestamp":null}`)
}

func TestVerification(t *testing.T) {
	rc := newReceiver(t, echoVerification(200))
	g, _ := newRegistry(t, nil)
	h, err := g.Create(hookDef(rc.srv.URL+"/okta/hook", "user.session.start"), "00uadmin")
	if err != nil {
		t.Fatal(err)
	}
	if h.Status != StatusActive || h.VerificationStatus != Unverified || h.Channel.Config.AuthScheme.Value != "" || !strings.HasPrefix(h.ID, "who") || len(h.ID) != 20 {
		t.Fatalf("created = %+v", h)
	}
	h, err = g.Verify(context.Background(), h.ID)
	if err != nil || h.VerificationStatus != Verified {
		t.Fatalf("verify: %+v %v", h, err)
	}
	reqs := rc.requests()
	if len(reqs) != 1 || reqs[0].method != "GET" || reqs[0].header.Get("x-okta-verification-challenge") == "" ||
		reqs[0].header.Get("Authorization") != secret || reqs[0].header.Get("X-Other-Header") != "my-header-value" {
		t.Fatalf("verification request = %+v", reqs)
	}
}

func TestVerificationFailsWithRetry(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"verification":"wrong"}`)
	})
	g, _ := newRegistry(t, nil)
	h, _ := g.Create(hookDef(rc.srv.URL, "user.session.start"), "")
	_, err := g.Verify(context.Background(), h.ID)
	var e *APIError
	if !asAPIError(err, &e) || e.Status != 400 || e.Code != "E0000001" || !strings.Contains(e.Error(), "verification") {
		t.Fatalf("err = %v", err)
	}
	if n := len(rc.requests()); n != 2 {
		t.Fatalf("%d verification attempts, want 2", n)
	}
	if h, _ := g.Get(h.ID); h.VerificationStatus != Unverified {
		t.Fatal("hook verified after a failed verification")
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatal("secret in error")
	}
}

func asAPIError(err error, e **APIError) bool {
	x, ok := err.(*APIError)
	*e = x
	return ok
}

func TestDeliveryEnvelopeAndFiltering(t *testing.T) {
	rc := newReceiver(t, echoVerification(200))
	g, fails := newRegistry(t, nil)
	h := verifiedHook(t, g, rc, "user.session.start", "user.account.lock")
	events := []json.RawMessage{
		event("u1", "user.session.start"),
		event("u2", "security.threat.detected"),       // not eligible
		event("u3", "group.user_membership.add"),      // eligible, not subscribed
		event("u4", "user.account.lock"),              // eligible, subscribed
		event("u5", "user.mfa.okta_verify.deny_push"), // not eligible
		json.RawMessage(`not json`),
	}
	if f := g.Deliver(context.Background(), events); len(f) != 0 || len(*fails) != 0 {
		t.Fatalf("failures: %+v", f)
	}
	reqs := rc.requests()[1:]
	if len(reqs) != 1 {
		t.Fatalf("%d deliveries, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != "POST" || r.header.Get("Authorization") != secret || r.header.Get("Content-Type") != "application/json" ||
		r.header.Get("Accept") != "application/json" || r.header.Get("X-Other-Header") != "my-header-value" {
		t.Fatalf("headers = %v", r.header)
	}
	var env map[string]any
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
		"source": "http://127.0.0.1:9999/api/v1/eventHooks/" + h.ID, "eventTime": "2026-11-22T10:00:00.123Z",
		"contentType": "application/json",
	} {
		if env[k] != want {
			t.Errorf("%s = %v, want %v", k, env[k], want)
		}
	}
	if id, _ := env["eventId"].(string); len(id) != 36 {
		t.Errorf("eventId = %v", env["eventId"])
	}
	evs := env["data"].(map[string]any)["events"].([]any)
	if len(evs) != 2 || evs[0].(map[string]any)["uuid"] != "u1" || evs[1].(map[string]any)["uuid"] != "u4" {
		t.Fatalf("events = %v", evs)
	}
	// The body keeps the field order Okta documents.
	order := []string{`"eventType"`, `"eventTypeVersion"`, `"cloudEventsVersion"`, `"source"`, `"eventId"`, `"eventTime"`, `"contentType"`, `"data"`}
	last := -1
	for _, k := range order {
		i := strings.Index(string(r.body), k)
		if i <= last {
			t.Fatalf("field %s out of order in %s", k, r.body)
		}
		last = i
	}
}

func TestNothingForIneligibleOrUnsubscribed(t *testing.T) {
	rc := newReceiver(t, echoVerification(200))
	g, _ := newRegistry(t, func(c *Config) { c.ExtraEligible = []string{"security.threat.detected", "user.lifecycle.create"} })
	if g.Eligible("security.threat.detected") || !g.Eligible("user.lifecycle.create") {
		t.Fatal("ExtraEligible may add types but never an ineligible one")
	}
	verifiedHook(t, g, rc, "user.session.start")
	g.Deliver(context.Background(), []json.RawMessage{event("a", "security.threat.detected"), event("b", "user.session.end"), event("c", "policy.evaluate_sign_on")})
	if n := len(rc.requests()); n != 1 {
		t.Fatalf("%d requests, want only the verification", n)
	}
	if _, err := g.Create(hookDef(rc.srv.URL, "security.threat.detected"), ""); err == nil || !strings.Contains(err.Error(), "not eligible") {
		t.Fatalf("subscription to an ineligible type: %v", err)
	}
}

func TestInactiveAndUnverifiedHooksGetNothing(t *testing.T) {
	rc := newReceiver(t, echoVerification(200))
	g, _ := newRegistry(t, nil)
	if _, err := g.Create(hookDef(rc.srv.URL, "user.session.start"), ""); err != nil {
		t.Fatal(err)
	}
	h := verifiedHook(t, g, rc, "user.session.start")
	if _, err := g.Deactivate(h.ID); err != nil {
		t.Fatal(err)
	}
	g.Deliver(context.Background(), []json.RawMessage{event("a", "user.session.start")})
	if n := len(rc.requests()); n != 1 {
		t.Fatalf("%d requests, want only the verification", n)
	}
}

func TestRetryOnceOn5xx(t *testing.T) {
	rc := newReceiver(t, verifyThen(func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	g, fails := newRegistry(t, nil)
	h := verifiedHook(t, g, rc, "user.session.start")
	f := g.Deliver(context.Background(), []json.RawMessage{event("u1", "user.session.start")})
	posts := rc.requests()[1:]
	if len(posts) != 2 || string(posts[0].body) != string(posts[1].body) {
		t.Fatalf("%d attempts (want 2, same envelope)", len(posts))
	}
	if len(f) != 1 || len(*fails) != 1 || f[0].HookID != h.ID || f[0].Attempts != 2 || f[0].Status != 503 ||
		f[0].EventUUIDs[0] != "u1" || f[0].EventTypes[0] != "user.session.start" || f[0].EventID == "" {
		t.Fatalf("failures = %+v", f)
	}
}

func TestRetrySucceeds(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet:
			echoVerification(200)(n, w, r)
		case n == 2:
			w.WriteHeader(http.StatusBadGateway)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	g, _ := newRegistry(t, nil)
	verifiedHook(t, g, rc, "user.session.start")
	if f := g.Deliver(context.Background(), []json.RawMessage{event("u1", "user.session.start")}); len(f) != 0 {
		t.Fatalf("failures = %+v", f)
	}
	if n := len(rc.requests()); n != 3 {
		t.Fatalf("%d requests, want verification + 2 attempts", n)
	}
}

func TestNoRetryOn4xx(t *testing.T) {
	rc := newReceiver(t, echoVerification(http.StatusUnauthorized))
	g, _ := newRegistry(t, nil)
	verifiedHook(t, g, rc, "user.session.start")
	f := g.Deliver(context.Background(), []json.RawMessage{event("u1", "user.session.start")})
	if n := len(rc.requests()); n != 2 {
		t.Fatalf("%d requests, want verification + 1 attempt", n)
	}
	if len(f) != 1 || f[0].Attempts != 1 || f[0].Status != 401 || strings.Contains(f[0].Reason, secret) {
		t.Fatalf("failures = %+v", f)
	}
}

func TestTimeoutRetriedOnce(t *testing.T) {
	rc := newReceiver(t, verifyThen(func(n int, w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers in time
	}))
	g, _ := newRegistry(t, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	verifiedHook(t, g, rc, "user.session.start")
	f := g.Deliver(context.Background(), []json.RawMessage{event("u1", "user.session.start")})
	if len(f) != 1 || f[0].Attempts != 2 || f[0].Status != 0 || f[0].Reason != "timeout" {
		t.Fatalf("failures = %+v", f)
	}
}

func TestDefaultTimeoutIsThreeSeconds(t *testing.T) {
	g, _ := newRegistry(t, nil)
	if g.cfg.Timeout != 3*time.Second {
		t.Fatalf("timeout = %v", g.cfg.Timeout)
	}
}

func TestPublishAndRun(t *testing.T) {
	batches := make(chan int, 10)
	rc := newReceiver(t, verifyThen(func(_ int, w http.ResponseWriter, r *http.Request) {
		var env Envelope
		_ = json.NewDecoder(r.Body).Decode(&env)
		batches <- len(env.Data.Events)
	}))
	g, _ := newRegistry(t, nil)
	verifiedHook(t, g, rc, "user.session.start")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- g.Run(ctx, 20*time.Millisecond, 2) }()
	if err := g.Publish(event("a", "user.session.start"), event("b", "user.session.start"), event("c", "user.session.start")); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for total := 0; total < 3; {
		select {
		case n := <-batches:
			if n < 1 || n > 2 {
				t.Fatalf("batch of %d events, want 1 or 2", n)
			}
			total += n
		case <-deadline:
			t.Fatalf("only %d of 3 events delivered", total)
		}
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run returned %v", err)
	}
}
