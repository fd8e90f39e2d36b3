package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idwatch/idwatch/internal/sink"
	"github.com/idwatch/idwatch/internal/store"
)

func TestVerification(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.subscribe("user.session.start") // Okta's verify call succeeded through the receiver
	for _, tc := range []struct {
		name, auth, challenge string
		want                  int
	}{
		{"right secret", hookSecret, "abc123", 200},
		{"wrong secret", "nope", "abc123", 401},
		{"no secret", "", "abc123", 401},
		{"no challenge", hookSecret, "", 400},
	} {
		req, _ := http.NewRequest(http.MethodGet, f.recvURL, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		if tc.challenge != "" {
			req.Header.Set(ChallengeHeader, tc.challenge)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Fatalf("%s: status %d, want %d", tc.name, res.StatusCode, tc.want)
		}
		if tc.want == 200 && string(body) != `{"verification":"abc123"}` {
			t.Fatalf("%s: body %s", tc.name, body)
		}
		if tc.want != 200 && bytes.Contains(body, []byte("abc123")) {
			t.Fatalf("%s: refused answer echoes the challenge", tc.name)
		}
	}
	// An unknown integration is answered like a wrong secret.
	req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(f.recvURL, "acme")+"globex", nil)
	req.Header.Set(ChallengeHeader, "x")
	req.Header.Set("Authorization", hookSecret)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 401 {
		t.Fatalf("unknown integration: %v %v", res, err)
	}
}

func TestRefusedDeliveriesStoreNothing(t *testing.T) {
	f := newFixture(t, fixtureOptions{opts: func(o *Options) { o.MaxBodyBytes = 16 << 10 }})
	if _, err := f.st.PutEventHook(f.ctx, store.EventHook{IntegrationID: f.in.ID, URL: f.recvURL, HeaderName: "Authorization",
		Secret: secretValue(hookSecret), EventTypes: []string{"user.session.start"}}); err != nil {
		t.Fatal(err)
	}
	src := f.orgURL + "/api/v1/eventHooks/who1"
	good := envelopeOf(src, "e-1", f.event("user.session.start"))
	big := envelopeOf(src, "e-2", f.event("user.session.start"), []byte(`{"uuid":"u-big","pad":"`+strings.Repeat("x", 20<<10)+`"}`))
	for _, tc := range []struct {
		name, auth string
		body       []byte
		want       int
	}{
		{"missing secret", "", good, 401},
		{"wrong secret", "Bearer " + hookSecret, good, 401},
		{"secret prefix", hookSecret[:10], good, 401},
		{"oversized", hookSecret, big, 413},
		{"malformed JSON", hookSecret, []byte(`{"eventType":"com.okta.event_hook","data":{"events":[{"uuid":`), 400},
		{"not an envelope", hookSecret, []byte(`[1,2,3]`), 400},
		{"no events member", hookSecret, []byte(`{"eventType":"com.okta.event_hook"}`), 400},
		{"another org", hookSecret, envelopeOf("https://evil.okta.com/api/v1/eventHooks/who1", "e-3", f.event("user.session.start")), 403},
		{"no source", hookSecret, envelopeOf("", "e-4", f.event("user.session.start")), 403},
	} {
		if got := f.post(tc.auth, tc.body); got != tc.want {
			t.Fatalf("%s: status %d, want %d", tc.name, got, tc.want)
		}
		if n := len(f.entries()); n != 0 {
			t.Fatalf("%s: %d entries stored", tc.name, n)
		}
	}
	// Without harm: the next good delivery is stored.
	if got := f.post(hookSecret, good); got != 200 || len(f.entries()) != 1 || f.entries()[0].Source != store.SourcePush {
		t.Fatalf("good delivery after refusals: %d %+v", got, f.entries())
	}
}

func TestDuplicateDeliveriesAndRetries(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	if _, err := f.st.PutEventHook(f.ctx, store.EventHook{IntegrationID: f.in.ID, URL: f.recvURL, HeaderName: "Authorization",
		Secret: secretValue(hookSecret), EventTypes: []string{"user.session.start"}}); err != nil {
		t.Fatal(err)
	}
	src := f.orgURL + "/api/v1/eventHooks/who1"
	a, b, c := f.event("user.session.start"), f.event("user.session.start"), f.event("user.session.start")
	for i, body := range [][]byte{
		envelopeOf(src, "e-1", a, b),
		envelopeOf(src, "e-1", a, b),    // the same delivery again (Okta's retry)
		envelopeOf(src, "e-2", b, c),    // a new envelope overlapping the first
		envelopeOf(src, "e-3", c, c, a), // repeats within one envelope
	} {
		if got := f.post(hookSecret, body); got != 200 {
			t.Fatalf("delivery %d: %d", i, got)
		}
	}
	es := f.entries()
	if len(es) != 3 {
		t.Fatalf("journal holds %d entries, want 3", len(es))
	}
	// A null top-level member the System Log API does not send is dropped, so the pushed copy
	// normalizes like the polled one.
	withNull := f.event("user.session.start")
	withNull = append(withNull[:len(withNull)-1], []byte(`,"device":null,"insertionTimestamp":null}`)...)
	if got := f.post(hookSecret, envelopeOf(src, "e-5", withNull)); got != 200 {
		t.Fatal(got)
	}
	es = f.entries()
	if last := es[len(es)-1]; bytes.Contains(last.Raw, []byte("null")) {
		t.Fatalf("null members kept: %s", last.Raw)
	}
	assertSinkOnce(t, f, uuidsOf(es))
}

func TestHookLossFilledByPolling(t *testing.T) {
	f := newFixture(t, fixtureOptions{drop: 0.3})
	types := []string{"user.session.start", "user.lifecycle.suspend"}
	f.subscribe(types...)
	start := time.Now()
	base := f.net.lost.Load() + f.net.forwarded.Load()
	eligible := 0
	for i := range 20 {
		eligible += len(f.add(types[i%2], 20))
		f.add("policy.evaluate_sign_on", 5) // not eligible: polling only
	}
	// Let every delivery be made or lost before polling, so that what polling adds is what the
	// hook lost.
	deadline := time.Now().Add(20 * time.Second)
	for f.net.lost.Load()+f.net.forwarded.Load() < base+int64(eligible) || f.countSource(store.SourcePush) < int(f.net.forwarded.Load()) {
		if time.Now().After(deadline) {
			t.Fatalf("deliveries: %d lost, %d forwarded, %d pushed", f.net.lost.Load(), f.net.forwarded.Load(), f.countSource(store.SourcePush))
		}
		waitFor(20 * time.Millisecond)
	}
	// Deliveries still under way are merged by uuid whichever copy arrives first.
	deadline = time.Now().Add(20 * time.Second)
	for {
		f.poll()
		got := uuidsOf(f.entries())
		if slices.Equal(got, f.truth()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("journal has %d events, truth %d", len(got), len(f.truth()))
		}
		waitFor(50 * time.Millisecond)
	}
	pushed, polled := f.countSource(store.SourcePush), f.countSource(store.SourcePoll)
	if pushed == 0 || polled == 0 {
		t.Fatalf("pushed %d polled %d: want both", pushed, polled)
	}
	missed, err := f.st.CountPolledSince(f.ctx, f.in.ID, types, start)
	if err != nil {
		t.Fatal(err)
	}
	// Probe events sent before delivery started may be polled first too.
	if lost := f.net.lost.Load(); missed == 0 || missed < lost || missed > lost+int64(f.probes) {
		t.Fatalf("%d events lost in deliveries, %d subscribed events counted as polled first", f.net.lost.Load(), missed)
	}
	t.Logf("pushed %d, polled %d, subscribed events polled first %d", pushed, polled, missed)
	assertSinkOnce(t, f, f.truth())
}

// assertSinkOnce runs a file sink over the journal and checks it writes each uuid exactly once.
func assertSinkOnce(t *testing.T, f *fixture, want []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	cfgs, err := sink.ParseConfigs([]byte("sinks:\n  - name: archive\n    type: file\n    path: " + path + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() { done <- sink.RunGroup(ctx, sink.GroupOptions{Store: f.st, Configs: cfgs}) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(b) > 0 && len(lines) >= len(want) {
			var got []string
			for _, l := range lines {
				var ev struct {
					UUID string `json:"uuid"`
				}
				if err := json.Unmarshal([]byte(l), &ev); err != nil {
					t.Fatalf("sink line %q: %v", l, err)
				}
				got = append(got, ev.UUID)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("file sink wrote %d lines for %d events (duplicates or gaps)", len(got), len(want))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("file sink wrote %d of %d events", len(lines), len(want))
		}
		waitFor(20 * time.Millisecond)
	}
}

// uuidsOf returns the entries' uuids sorted, failing on none; duplicates stay visible.
func uuidsOf(es []store.Entry) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.UUID)
	}
	slices.Sort(out)
	return out
}

func TestDecodePushedKeepsUnreadableEvents(t *testing.T) {
	evs, bad := decodePushed([]json.RawMessage{json.RawMessage(`{"eventType":"x"}`), json.RawMessage(`7`),
		json.RawMessage(`{"uuid":"u1","published":"2026-01-01T00:00:00Z","eventType":"user.session.start"}`)})
	if bad != 2 || len(evs) != 3 || !strings.HasPrefix(evs[0].UUID, "sha256:") || evs[2].UUID != "u1" || evs[2].Published.IsZero() {
		t.Fatalf("bad %d %+v", bad, evs)
	}
}

// stallingStore holds every append until its context ends, like a store stuck on a lock or disk.
type stallingStore struct{ Store }

func (s stallingStore) AppendPage(ctx context.Context, _ int64, _ []store.Event, _ *store.Cursor) (store.AppendResult, error) {
	<-ctx.Done()
	return store.AppendResult{}, ctx.Err()
}

// TestSlowStoreAnswers503: when the append does not finish within AppendTimeout the delivery is
// answered 503 (Okta retries it) instead of being acknowledged without durability.
func TestSlowStoreAnswers503(t *testing.T) {
	f := newFixture(t, fixtureOptions{wrap: func(s Store) Store { return stallingStore{s} },
		opts: func(o *Options) { o.AppendTimeout = 50 * time.Millisecond }})
	if _, err := f.st.PutEventHook(f.ctx, store.EventHook{IntegrationID: f.in.ID, URL: f.recvURL, HeaderName: "Authorization",
		Secret: secretValue(hookSecret), EventTypes: []string{"user.session.start"}}); err != nil {
		t.Fatal(err)
	}
	body := envelopeOf(f.orgURL+"/api/v1/eventHooks/who1", "e-1", f.event("user.session.start"))
	if got := f.post(hookSecret, body); got != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", got)
	}
	// The eventId is not remembered: Okta's retry is stored once the store answers.
	if f.recv.integ["acme"].recent.has("e-1") {
		t.Fatal("a failed delivery's eventId was remembered")
	}
}

func TestTwoReceiversShareMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := newReceiverMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newReceiverMetrics(reg)
	if err != nil || a.requests != b.requests || a.events != b.events || a.appendSeconds != b.appendSeconds {
		t.Fatalf("second registration: %v", err)
	}
}
