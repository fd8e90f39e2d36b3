package hooks

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// receiverMetrics are the receiver's Prometheus metrics.
type receiverMetrics struct {
	requests      *prometheus.CounterVec
	events        *prometheus.CounterVec
	appendSeconds *prometheus.HistogramVec
}

func newReceiverMetrics(reg prometheus.Registerer) (*receiverMetrics, error) {
	m := &receiverMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idwatch_hook_requests_total",
			Help: "Event hook requests by integration and outcome (accepted, duplicate, verified, unauthorized, other_org, malformed, too_large, store_error, unknown).",
		}, []string{"integration", "outcome"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idwatch_hook_events_total",
			Help: "Events received by event hook, by integration and result (inserted, or duplicate of a stored event).",
		}, []string{"integration", "result"}),
		appendSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "idwatch_hook_append_seconds",
			Help:    "Time to append one event hook delivery to the journal.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2},
		}, []string{"integration"}),
	}
	if reg == nil {
		return m, nil
	}
	// A second receiver on one registry shares the registered metrics.
	for _, c := range []**prometheus.CounterVec{&m.requests, &m.events} {
		if err := reg.Register(*c); err != nil {
			existing, ok := alreadyRegistered[*prometheus.CounterVec](err)
			if !ok {
				return nil, err
			}
			*c = existing
		}
	}
	if err := reg.Register(m.appendSeconds); err != nil {
		existing, ok := alreadyRegistered[*prometheus.HistogramVec](err)
		if !ok {
			return nil, err
		}
		m.appendSeconds = existing
	}
	return m, nil
}

// alreadyRegistered returns the collector registered before, when err says there is one of type T.
func alreadyRegistered[T prometheus.Collector](err error) (T, bool) {
	var are prometheus.AlreadyRegisteredError
	var zero T
	if !errors.As(err, &are) {
		return zero, false
	}
	c, ok := are.ExistingCollector.(T)
	return c, ok
}
