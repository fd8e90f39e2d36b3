package hooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	simhooks "github.com/idwatch/idwatch/internal/oktasim/hooks"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

const hookSecret = "s3cr3t-hook-value-0123456789abcdef"

// fixture is an oktasim org delivering event hooks to a receiver over loopback HTTP, and a store
// with the org's integration.
type fixture struct {
	t       testing.TB
	ctx     context.Context
	sim     *oktasim.Server
	orgURL  string
	token   string
	st      store.Store
	in      store.Integration
	recv    *Receiver
	recvURL string
	reg     *prometheus.Registry
	hookID  string
	net     *dropTransport
	probes  int
	// simWarnings counts the org's warnings (events its delivery queue dropped, failed deliveries).
	simWarnings warnCounter
	// deliverers are extra concurrent delivery runners (subscribe).
	deliverers int
	appended   atomic.Int64
	n          atomic.Int64
}

type fixtureOptions struct {
	// drop is the share of deliveries the network loses (both attempts of a delivery).
	drop float64
	// wrap wraps the store the receiver writes to.
	wrap func(Store) Store
	// deliverers adds concurrent delivery runners to the org's one.
	deliverers int
	// opts adjusts the receiver's options.
	opts func(*Options)
}

// dropTransport loses a share of hook deliveries: each envelope's fate is a hash of its eventId,
// so Okta's retry of a lost delivery is lost too, and the sender sees a 4xx it does not retry.
type dropTransport struct {
	share float64
	// lost and forwarded count the events of lost and forwarded envelopes.
	lost, forwarded atomic.Int64
}

func (d *dropTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && d.share > 0 {
		body, _ := io.ReadAll(req.Body)
		req.Body.Close()
		var env struct {
			EventID string `json:"eventId"`
			Data    struct {
				Events []json.RawMessage `json:"events"`
			} `json:"data"`
		}
		_ = json.Unmarshal(body, &env)
		h := fnv.New32a()
		h.Write([]byte(env.EventID))
		if float64(h.Sum32()%1000) < d.share*1000 {
			d.lost.Add(int64(len(env.Data.Events)))
			return &http.Response{StatusCode: http.StatusBadRequest, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		res, err := http.DefaultTransport.RoundTrip(req)
		if err == nil && res.StatusCode == http.StatusOK {
			d.forwarded.Add(int64(len(env.Data.Events)))
		}
		return res, err
	}
	return http.DefaultTransport.RoundTrip(req)
}

func newFixture(t testing.TB, fo fixtureOptions) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, orgURL: "http://" + ln.Addr().String(), net: &dropTransport{share: fo.drop}, deliverers: fo.deliverers}
	rl := oktasim.DefaultRateLimits()
	rl.Disabled = true
	for i := range rl.Buckets {
		rl.Buckets[i].PerMinute = 1_000_000
	}
	f.sim, err = oktasim.New(oktasim.Config{OrgURL: f.orgURL, ControlKey: "control", HookBatchWindow: 5 * time.Millisecond,
		HookClient: &http.Client{Transport: f.net}, RateLimits: rl, Logger: slog.New(&f.simWarnings)})
	if err != nil {
		t.Fatal(err)
	}
	_, f.token = f.sim.Tokens().Add(oktasim.APIToken{Name: "idwatch", AdminID: "00uadmin", Roles: []oktasim.Role{oktasim.RoleSuperAdmin}})
	ts := httptest.NewUnstartedServer(f.sim)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)

	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	kr, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, sqlite.Options{Path: t.TempDir() + "/idwatch.db", Sealer: kr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	f.in, err = st.CreateIntegration(ctx, store.Integration{Name: "acme", OrgURL: f.orgURL, AuthKind: store.AuthAPIToken,
		Enabled: true, Credentials: store.Credentials{APIToken: secret.New(f.token)}, CustomAttributes: store.DefaultAttributeNames})
	if err != nil {
		t.Fatal(err)
	}
	var rs Store = st
	if fo.wrap != nil {
		rs = fo.wrap(st)
	}
	f.reg = prometheus.NewRegistry()
	o := Options{Store: rs, Registerer: f.reg, Logger: slog.New(slog.DiscardHandler)}
	if fo.opts != nil {
		fo.opts(&o)
	}
	f.recv, err = NewReceiver(o)
	if err != nil {
		t.Fatal(err)
	}
	rsrv := httptest.NewServer(f.recv)
	t.Cleanup(rsrv.Close)
	f.recvURL = rsrv.URL + PathPrefix + "acme"
	return f
}

// subscribe stores the hook's secret for the integration, creates the hook in the org,
// verifies it (Okta's GET against the receiver) and starts delivery.
func (f *fixture) subscribe(types ...string) {
	t := f.t
	t.Helper()
	if _, err := f.st.PutEventHook(f.ctx, store.EventHook{IntegrationID: f.in.ID, URL: f.recvURL, HeaderName: "Authorization",
		Secret: secret.New(hookSecret), EventTypes: types}); err != nil {
		t.Fatal(err)
	}
	reg := f.sim.EventHooks()
	h, err := reg.Create(simhooks.Hook{Name: "idwatch", Events: simhooks.Events{Type: "EVENT_TYPE", Items: types},
		Channel: simhooks.Channel{Type: "HTTP", Version: "1.0.0", Config: simhooks.ChannelConfig{URI: f.recvURL,
			AuthScheme: &simhooks.AuthScheme{Type: "HEADER", Key: "Authorization", Value: hookSecret}}}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Verify(f.ctx, h.ID); err != nil {
		t.Fatalf("verification through the receiver: %v", err)
	}
	f.hookID = h.ID
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = f.sim.RunHooks(ctx) }()
	// Okta delivers concurrently; more runners drain the same delivery queue in parallel.
	var extra sync.WaitGroup
	for range f.deliverers {
		extra.Go(func() { _ = reg.Run(ctx, 5*time.Millisecond, 0) })
	}
	t.Cleanup(func() { cancel(); <-done; extra.Wait() })
	// Delivery starts asynchronously: wait until a probe event arrives pushed.
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.add(types[0], 1)
		f.probes++
		if f.countSource(store.SourcePush) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no delivery reached the journal")
		}
		waitFor(20 * time.Millisecond)
	}
}

// waitFor blocks d on a timer; used only between polls of a condition with a deadline.
func waitFor(d time.Duration) { <-time.After(d) }

// event returns a System Log event of eventType published now.
func (f *fixture) event(eventType string) []byte {
	n := f.n.Add(1)
	raw, _ := json.Marshal(map[string]any{
		"uuid": fmt.Sprintf("%08x-0000-4000-8000-%012d", n>>16, n), "published": time.Now().UTC().Format(time.RFC3339Nano),
		"eventType": eventType, "version": "0", "severity": "INFO", "displayMessage": "User login to Okta",
		"actor":   map[string]any{"id": "00u1", "type": "User", "alternateId": "jane@acme.example"},
		"outcome": map[string]any{"result": "SUCCESS"}, "legacyEventType": "core.user_auth.login_success",
	})
	return raw
}

// add appends n events of eventType to the org's System Log.
func (f *fixture) add(eventType string, n int) []string {
	f.t.Helper()
	ids := make([]string, 0, n)
	for range n {
		id, err := f.sim.AppendRaw(f.event(eventType), 0)
		if err != nil {
			f.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// entries returns the whole journal.
func (f *fixture) entries() []store.Entry {
	f.t.Helper()
	var out []store.Entry
	var after int64
	for {
		es, err := f.st.ReadJournal(f.ctx, after, 10_000, store.ReadFilter{})
		if err != nil {
			f.t.Fatal(err)
		}
		if len(es) == 0 {
			return out
		}
		out = append(out, es...)
		after = es[len(es)-1].Seq
	}
}

func (f *fixture) countSource(src string) int {
	n := 0
	for _, e := range f.entries() {
		if e.Source == src {
			n++
		}
	}
	return n
}

// poll catches the integration's System Log up into the journal.
func (f *fixture) poll() {
	f.t.Helper()
	govs, err := okta.NewGovernorSet(okta.GovernorConfig{})
	if err != nil {
		f.t.Fatal(err)
	}
	cl, err := (&collect.Clients{Governors: govs, Logger: slog.New(slog.DiscardHandler)}).Client(f.in)
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := collect.NewPoller(f.in.ID, cl, f.st, nil, collect.Config{Lookback: time.Hour, PollInterval: 10 * time.Millisecond})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := p.CatchUp(f.ctx, 3); err != nil {
		f.t.Fatal(err)
	}
}

// truth returns the org's visible event uuids, sorted.
func (f *fixture) truth() []string {
	ids := slices.Clone(f.sim.VisibleUUIDs())
	slices.Sort(ids)
	return ids
}

// post sends a delivery to the receiver with the given secret header value ("" for none).
func (f *fixture) post(auth string, body []byte) int {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.recvURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// envelope builds a com.okta.event_hook delivery from source carrying events.
func envelopeOf(source, eventID string, events ...[]byte) []byte {
	evs := make([]json.RawMessage, len(events))
	for i, e := range events {
		evs[i] = e
	}
	b, _ := json.Marshal(map[string]any{"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
		"source": source, "eventId": eventID, "eventTime": time.Now().UTC().Format(time.RFC3339Nano), "contentType": "application/json",
		"data": map[string]any{"events": evs}})
	return b
}

// lockedDurations collects append latencies.
type lockedDurations struct {
	mu sync.Mutex
	d  []time.Duration
}

func secretValue(s string) secret.Value { return secret.New(s) }

// warnCounter is a slog handler counting warnings and errors by message.
type warnCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (w *warnCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnCounter) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == nil {
		w.n = map[string]int{}
	}
	w.n[r.Message]++
	return nil
}
func (w *warnCounter) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnCounter) WithGroup(string) slog.Handler      { return w }

func (w *warnCounter) counts() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.n)
}
