// Package freshness measures how long events take to become useful: the delay from an event's
// published time to its journal append and to the alert it raised, per integration and per
// source (push: event hook; poll: System Log), as Prometheus histograms.
package freshness

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idwatch/idwatch/internal/store"
)

// buckets span sub-second push delivery to multi-minute polling and indexing delays.
var buckets = []float64{.1, .25, .5, 1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 120, 300, 600}

// Metrics holds the freshness histograms.
type Metrics struct {
	journal *prometheus.HistogramVec
	alert   *prometheus.HistogramVec
	now     func() time.Time
}

// New registers the histograms with reg (nil: unregistered); now stamps alert commits (nil:
// time.Now).
func New(reg prometheus.Registerer, now func() time.Time) (*Metrics, error) {
	if now == nil {
		now = time.Now
	}
	m := &Metrics{now: now,
		journal: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "idwatch_event_journal_delay_seconds",
			Help:    "Delay from an event's published time to its journal append, by integration id and source (push or poll).",
			Buckets: buckets,
		}, []string{"integration", "source"}),
		alert: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "idwatch_event_alert_delay_seconds",
			Help:    "Delay from an event's published time to the commit of the alert it raised, by integration id and source (push or poll).",
			Buckets: buckets,
		}, []string{"integration", "source"}),
	}
	if reg != nil {
		for _, h := range []**prometheus.HistogramVec{&m.journal, &m.alert} {
			if err := reg.Register(*h); err != nil {
				// Already registered (a second New on one registry): share the registered one.
				var are prometheus.AlreadyRegisteredError
				if !errors.As(err, &are) {
					return nil, err
				}
				existing, ok := are.ExistingCollector.(*prometheus.HistogramVec)
				if !ok {
					return nil, err
				}
				*h = existing
			}
		}
	}
	return m, nil
}

// Observe records a committed processor batch; it fits process.Config.Observe. Each journal
// entry is processed once, so each event is counted once, by the source of the copy stored.
// Entries without a published time are not measured.
func (m *Metrics) Observe(entries []store.Entry, alerting []*store.Entry) {
	now := m.now()
	for i := range entries {
		e := &entries[i]
		if e.Published.IsZero() || e.StoredAt.IsZero() {
			continue
		}
		m.journal.WithLabelValues(strconv.FormatInt(e.IntegrationID, 10), source(e)).Observe(max(0, e.StoredAt.Sub(e.Published).Seconds()))
	}
	for _, e := range alerting {
		if e.Published.IsZero() {
			continue
		}
		m.alert.WithLabelValues(strconv.FormatInt(e.IntegrationID, 10), source(e)).Observe(max(0, now.Sub(e.Published).Seconds()))
	}
}

func source(e *store.Entry) string {
	if e.Source == store.SourcePush {
		return store.SourcePush
	}
	return store.SourcePoll
}
