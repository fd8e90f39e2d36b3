// Package hooks receives Okta event hooks: the one-time verification and the POST deliveries
// of /hooks/okta/{integration}, each authenticated by the integration's header secret and
// appended to the journal (marked as pushed) before it is acknowledged. Polling keeps running
// and merges by uuid, so a delivery the hook misses still arrives.
package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes  = 8 << 20
	DefaultAppendTimeout = 2 * time.Second
	DefaultRecentIDs     = 10_000
	DefaultLookupTTL     = 5 * time.Second
	// statsEvery is how often delivery statistics are written to the store.
	statsEvery = 10 * time.Second
	// maxChallengeLen bounds the verification challenge echoed back.
	maxChallengeLen = 1024
)

// unknownLabel stands for the integration in metrics of requests not yet authenticated, so
// that made-up names cannot grow the metrics without bound.
const unknownLabel = "-"

// ChallengeHeader carries Okta's one-time verification challenge.
const ChallengeHeader = "x-okta-verification-challenge"

// PathPrefix is where the receiver serves; the integration's name follows it.
const PathPrefix = "/hooks/okta/"

// Store is what the receiver reads and writes.
type Store interface {
	AppendPage(ctx context.Context, integrationID int64, events []store.Event, cursor *store.Cursor) (store.AppendResult, error)
	IntegrationByName(ctx context.Context, name string) (store.Integration, error)
	EventHook(ctx context.Context, integrationID int64) (store.EventHook, error)
	RecordHookDeliveries(ctx context.Context, integrationID int64, d store.HookDeliveries) error
}

// Options configures the receiver. Zero values select the defaults.
type Options struct {
	Store  Store
	Logger *slog.Logger
	Clock  clock.Clock
	// Registerer receives the receiver's metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// MaxBodyBytes refuses larger deliveries with 413 (default 8 MiB).
	MaxBodyBytes int64
	// AppendTimeout bounds the journal append; past it the delivery is answered 503 so Okta
	// retries instead of being acknowledged without durability (default 2 s, inside Okta's 3 s).
	AppendTimeout time.Duration
	// RecentIDs is how many envelope eventIds per integration are remembered for deduplication
	// (default 10,000).
	RecentIDs int
	// LookupTTL is how long an integration's hook settings are cached, so a rotated secret takes
	// effect within it (default 5 s).
	LookupTTL time.Duration
}

// Validate checks the options.
func (o Options) Validate() error {
	var errs []error
	if o.Store == nil {
		errs = append(errs, errors.New("no store"))
	}
	if o.MaxBodyBytes < 0 || o.AppendTimeout < 0 || o.RecentIDs < 0 || o.LookupTTL < 0 {
		errs = append(errs, errors.New("body limit, append timeout, recent ids and lookup TTL must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("hook receiver: %w", err)
	}
	return nil
}

// Receiver is the event hook endpoint; it is safe for concurrent use.
type Receiver struct {
	opt     Options
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *receiverMetrics

	mu    sync.Mutex
	integ map[string]*target
}

// target is one integration's cached hook settings, recent eventIds and pending statistics.
type target struct {
	loaded  time.Time
	in      store.Integration
	hook    store.EventHook
	err     error
	recent  *recentSet
	pending store.HookDeliveries
	flushed time.Time
}

// NewReceiver returns the receiver as an http.Handler serving /hooks/okta/{integration}.
func NewReceiver(o Options) (*Receiver, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.AppendTimeout == 0 {
		o.AppendTimeout = DefaultAppendTimeout
	}
	if o.RecentIDs == 0 {
		o.RecentIDs = DefaultRecentIDs
	}
	if o.LookupTTL == 0 {
		o.LookupTTL = DefaultLookupTTL
	}
	m, err := newReceiverMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	r := &Receiver{opt: o, log: o.Logger, mux: http.NewServeMux(), metrics: m, integ: make(map[string]*target)}
	r.mux.HandleFunc("GET "+PathPrefix+"{integration}", r.verify)
	r.mux.HandleFunc("POST "+PathPrefix+"{integration}", r.deliver)
	return r, nil
}

// ServeHTTP implements http.Handler.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.mux.ServeHTTP(w, req) }

// lookup returns the integration's settings, cached for LookupTTL.
func (r *Receiver) lookup(ctx context.Context, name string) *target {
	now := r.opt.Clock.Now()
	r.mu.Lock()
	t := r.integ[name]
	if t != nil && now.Sub(t.loaded) < r.opt.LookupTTL {
		r.mu.Unlock()
		return t
	}
	r.mu.Unlock()
	fresh := &target{loaded: now}
	fresh.in, fresh.err = r.opt.Store.IntegrationByName(ctx, name)
	if fresh.err == nil {
		fresh.hook, fresh.err = r.opt.Store.EventHook(ctx, fresh.in.ID)
	}
	if fresh.err != nil {
		// Not cached: a hook registered a moment ago must verify at once.
		fresh.loaded = time.Time{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if t = r.integ[name]; t != nil {
		// Keep the remembered eventIds and pending statistics across reloads.
		t.loaded, t.in, t.hook, t.err = fresh.loaded, fresh.in, fresh.hook, fresh.err
		return t
	}
	fresh.recent, fresh.flushed = newRecentSet(r.opt.RecentIDs), now
	r.integ[name] = fresh
	return fresh
}

// authorize resolves the integration and checks the delivery's secret header; it answers the
// request itself and returns a nil target when the request may not go on. The integration and
// hook returned are a snapshot, safe to read while the cache reloads.
func (r *Receiver) authorize(w http.ResponseWriter, req *http.Request) (*target, store.Integration, store.EventHook) {
	name := req.PathValue("integration")
	t := r.lookup(req.Context(), name)
	r.mu.Lock()
	in, hook, err := t.in, t.hook, t.err
	r.mu.Unlock()
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Answered like a wrong secret, so the endpoint does not tell which integrations exist.
		r.log.Warn("event hook: request for an integration without a hook refused", "integration", name, "remote", req.RemoteAddr)
		r.refuse(w, unknownLabel, "unknown", http.StatusUnauthorized)
		return nil, in, hook
	case err != nil:
		r.log.Error("event hook: cannot read the integration's hook settings", "integration", name, "err", err)
		r.refuse(w, name, "store_error", http.StatusServiceUnavailable)
		return nil, in, hook
	}
	got := req.Header.Values(hook.HeaderName)
	if len(got) != 1 || !hook.Secret.Equal(secret.New(got[0])) {
		r.log.Warn("event hook: request without the right secret header refused", "integration", in.Name, "remote", req.RemoteAddr)
		r.refuse(w, name, "unauthorized", http.StatusUnauthorized)
		return nil, in, hook
	}
	return t, in, hook
}

// verify answers Okta's one-time verification GET.
func (r *Receiver) verify(w http.ResponseWriter, req *http.Request) {
	challenge := req.Header.Get(ChallengeHeader)
	if challenge == "" || len(challenge) > maxChallengeLen {
		r.refuse(w, unknownLabel, "malformed", http.StatusBadRequest)
		return
	}
	t, in, _ := r.authorize(w, req)
	if t == nil {
		return
	}
	body, _ := json.Marshal(map[string]string{"verification": challenge})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
	r.log.Info("event hook verified by Okta", "integration", in.Name)
	r.metrics.requests.WithLabelValues(in.Name, "verified").Inc()
}

// refuse answers an error status with no body detail and counts it.
func (r *Receiver) refuse(w http.ResponseWriter, integration, outcome string, status int) {
	r.metrics.requests.WithLabelValues(integration, outcome).Inc()
	http.Error(w, http.StatusText(status), status)
}

// sameOrg reports whether an envelope's source names the integration's org: the source is
// https://{org}/api/v1/eventHooks/{hookId}; its host must be the org's, or its hook id the one
// registered for the integration (a hook on an org reached through a custom domain).
func sameOrg(source string, in store.Integration, hook store.EventHook) bool {
	u, err := url.Parse(source)
	if err != nil || u.Host == "" {
		return false
	}
	if org, err := url.Parse(in.OrgURL); err == nil && strings.EqualFold(u.Host, org.Host) {
		return true
	}
	id, ok := strings.CutPrefix(u.Path, "/api/v1/eventHooks/")
	return ok && hook.OktaHookID != "" && id == hook.OktaHookID
}
