package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store"
)

// HealthWriter persists health records.
type HealthWriter interface {
	SetHealth(ctx context.Context, h store.Health) error
}

// Tracker keeps one integration's health current in memory and in the store. It is safe for
// concurrent use.
type Tracker struct {
	mu     sync.Mutex
	h      store.Health
	base   time.Time // the time the journal was last known complete up to; lag is measured from it
	st     HealthWriter
	clock  clock.Clock
	log    *slog.Logger
	budget func() float64
}

// NewTracker returns a tracker for integrationID in state pending; st may be nil (memory only).
func NewTracker(integrationID int64, st HealthWriter, clk clock.Clock, log *slog.Logger) *Tracker {
	if clk == nil {
		clk = clock.System{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Tracker{h: store.Health{IntegrationID: integrationID, State: store.HealthPending}, st: st, clock: clk, log: log}
}

// Resume carries the running totals and last event time of a previous record over.
func (t *Tracker) Resume(prev store.Health) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.h.EventsCollected, t.h.RequestsMade, t.h.LastEventAt = prev.EventsCollected, prev.RequestsMade, prev.LastEventAt
	// The journal is complete up to the newest collected event at least: an integration that
	// fails from its first poll after a restart shows that lag, not none.
	if t.base.IsZero() {
		t.base = prev.LastEventAt
	}
}

// SetBudget sets where the share of the rate budget in use comes from.
func (t *Tracker) SetBudget(fn func() float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.budget = fn
}

// Snapshot returns the current health.
func (t *Tracker) Snapshot() store.Health {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.snapshotLocked()
}

func (t *Tracker) snapshotLocked() store.Health {
	h := t.h
	if !t.base.IsZero() {
		h.Lag = max(t.clock.Now().Sub(t.base), 0)
	}
	if t.budget != nil {
		h.BudgetShareUsed = t.budget()
	}
	return h
}

// Set moves the integration to state with the reason and fix shown to the user.
func (t *Tracker) Set(state store.HealthState, reason, fix string) {
	t.update(func(h *store.Health) { h.State, h.Reason, h.Fix = state, reason, fix })
}

// request counts one request to Okta.
func (t *Tracker) request() {
	t.mu.Lock()
	t.h.RequestsMade++
	t.mu.Unlock()
}

// collected records a stored page: inserted new events, the newest published time on the page,
// and whether the stream is caught up.
func (t *Tracker) collected(inserted int, newest time.Time, caughtUp bool) {
	now := t.clock.Now()
	t.update(func(h *store.Health) {
		h.EventsCollected += int64(inserted)
		if newest.After(h.LastEventAt) {
			h.LastEventAt = newest
		}
		switch {
		case caughtUp:
			t.base = now
		case !newest.IsZero():
			t.base = newest
		}
		if h.State != store.HealthDegraded || caughtUp {
			h.State, h.Reason, h.Fix = store.HealthCollecting, "", ""
		}
	})
}

// note reports a recovered incident: the state is degraded with reason until the stream next
// catches up.
func (t *Tracker) note(reason string) {
	t.Set(store.HealthDegraded, reason, "")
}

// failed records a failed poll that will be retried after wait.
func (t *Tracker) failed(err error, wait time.Duration) {
	state, reason, fix := Explain(err)
	if state == store.HealthDegraded {
		reason = fmt.Sprintf("%s; retrying in %s", reason, wait.Round(time.Second))
	}
	t.Set(state, reason, fix)
}

func (t *Tracker) update(fn func(h *store.Health)) {
	t.mu.Lock()
	fn(&t.h)
	h := t.snapshotLocked()
	t.mu.Unlock()
	if t.st == nil {
		return
	}
	// Health is advisory: a failed write must not stop collection, and the next update retries.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.st.SetHealth(ctx, h); err != nil {
		t.log.Warn("health record not saved", "integration", h.IntegrationID, "error", err)
	}
}

// Explain turns a collection error into a health state, a reason and, when the user must act,
// the fix. Errors that clear by themselves (Okta outages, rate limits, network trouble, malformed
// pages) give degraded; those that need a change of credentials, roles or scopes give error.
func Explain(err error) (state store.HealthState, reason, fix string) {
	var apiErr *okta.APIError
	var originErr *okta.OriginError
	var nextErr *okta.NextLinkError
	switch {
	case errors.As(err, &apiErr):
		switch apiErr.Kind {
		case okta.KindInvalidToken, okta.KindPermission, okta.KindScope, okta.KindInvalidClient, okta.KindDPoP:
			return store.HealthError, apiErr.Error(), apiErr.Fix()
		case okta.KindRateLimited:
			return store.HealthDegraded, "Okta rate limit reached (HTTP 429); waiting for the window to reset", apiErr.Fix()
		case okta.KindServer:
			return store.HealthDegraded, fmt.Sprintf("Okta failed with HTTP %d", apiErr.Status), ""
		}
		return store.HealthDegraded, apiErr.Error(), apiErr.Fix()
	case errors.Is(err, okta.ErrMalformedPage):
		return store.HealthDegraded, "Okta sent a truncated or malformed page; it was discarded and is fetched again", ""
	case errors.As(err, &nextErr):
		return store.HealthError, err.Error() + "; polling re-reads from the last collected event, with backoff",
			"Okta's answer, or a proxy rewriting it on the way, pointed the next page at another origin or path. idwatch never follows such a link nor sends credentials there. Check any HTTP(S) proxy or TLS-inspecting gateway between idwatch and Okta, and that the integration's org URL is the org's own address (e.g. https://acme.okta.com); collection resumes by itself once the answers are right"
	case errors.As(err, &originErr):
		return store.HealthError, err.Error(), "check the integration's org URL; idwatch never follows links off the org"
	case errors.Is(err, errStore) && errors.Is(err, store.ErrCorrupt):
		return store.HealthError, err.Error(), "the database file is damaged: stop idwatch, keep a copy of idwatch.db and its -wal and -shm files, then restore it from backup or move it aside"
	case errors.Is(err, errStore):
		return store.HealthError, err.Error(), "the database is intact: free disk space on the data directory's volume, check the disk and the permissions of the data directory; collection resumes by itself once fixed"
	case errors.Is(err, context.DeadlineExceeded):
		return store.HealthDegraded, "request to Okta timed out", ""
	}
	if p, ok := okta.ExplainTLSError(err, requestHost(err)); ok {
		// A refused certificate does not clear by itself: an inspecting proxy's CA must be trusted.
		return store.HealthError, p.Detail, p.Fix
	}
	return store.HealthDegraded, err.Error(), ""
}

// requestHost is the host a failed request went to, as the okta client or net/http names it.
func requestHost(err error) string {
	var ce *okta.CertificateError
	if errors.As(err, &ce) && ce.Host != "" {
		return ce.Host
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Hostname() != "" {
			return u.Hostname()
		}
	}
	return "the org's host"
}

// errStore marks failures of the local store, which the user fixes on this machine.
var errStore = errors.New("journal")
