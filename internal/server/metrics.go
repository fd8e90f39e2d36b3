package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/idwatch/idwatch/internal/process"
	"github.com/idwatch/idwatch/internal/sink"
	"github.com/idwatch/idwatch/internal/store"
)

// initMetrics builds the private registry: the API's own request counters, and a collector that
// reads the store's health, offset and alert tables at each scrape (so no package needs counters
// threaded through it, and the figures agree with `idwatch integrations list`).
func (s *Server) initMetrics() {
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idwatch_api_requests_total",
		Help: "API requests by route pattern and HTTP status."}, []string{"route", "status"})
	s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "idwatch_api_request_duration_seconds",
		Help: "API request durations by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"})
	s.registry.MustRegister(s.requests, s.duration, &stateCollector{s: s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

var (
	descEvents = prometheus.NewDesc("idwatch_integration_events_collected_total", "Events collected from the integration's System Log.", []string{"integration"}, nil)
	descLag    = prometheus.NewDesc("idwatch_integration_lag_seconds", "How far collection trails real time.", []string{"integration"}, nil)
	descReqs   = prometheus.NewDesc("idwatch_integration_requests_total", "Okta API requests made for the integration.", []string{"integration"}, nil)
	descStatus = prometheus.NewDesc("idwatch_integration_responses_total", "Okta API answers to this process for the integration's org, by HTTP status class (error: no answer).", []string{"integration", "class"}, nil)
	desc429    = prometheus.NewDesc("idwatch_integration_rate_limited_total", "Okta 429 (rate limited) answers to this process for the integration's org.", []string{"integration"}, nil)
	descBudget = prometheus.NewDesc("idwatch_integration_budget_share_used", "Fraction (0..1) of the rate-limit budget in use.", []string{"integration"}, nil)
	descState  = prometheus.NewDesc("idwatch_integration_state", "1 for the integration's current collection state.", []string{"integration", "state"}, nil)
	descCLag   = prometheus.NewDesc("idwatch_processor_lag_records", "Journal records not yet processed.", nil, nil)
	descCRate  = prometheus.NewDesc("idwatch_processor_events_per_second", "Journal records processed per second over the last minutes.", nil, nil)
	descPOff   = prometheus.NewDesc("idwatch_processor_offset", "The processor's committed journal offset.", nil, nil)
	descSLag   = prometheus.NewDesc("idwatch_sink_lag_records", "Records of the stream the sink has not delivered.", []string{"sink", "stream"}, nil)
	descSDel   = prometheus.NewDesc("idwatch_sink_delivered_offset", "The sink's committed offset in its stream.", []string{"sink", "stream"}, nil)
	descSErr   = prometheus.NewDesc("idwatch_sink_error", "1 while the sink reports an error.", []string{"sink", "stream"}, nil)
	descSDead  = prometheus.NewDesc("idwatch_sink_dead_letters", "Dead letters held for the sink.", []string{"sink"}, nil)
	descAlerts = prometheus.NewDesc("idwatch_alerts", "Stored alerts by severity and rule.", []string{"severity", "rule"}, nil)
	descUp     = prometheus.NewDesc("idwatch_store_up", "1 when the store answered this scrape's queries.", nil, nil)
)

var allStates = []store.HealthState{store.HealthPending, store.HealthVerifying, store.HealthCollecting, store.HealthDegraded, store.HealthError, store.HealthDisabled}

// stateCollector reads the store at scrape time.
type stateCollector struct{ s *Server }

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEvents, descLag, descReqs, descStatus, desc429, descBudget, descState, descCLag, descCRate, descPOff,
		descSLag, descSDel, descSErr, descSDead, descAlerts, descUp} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.collect(ctx, ch)
	up := 1.0
	if err != nil {
		c.s.log.Warn("metrics: reading the store failed", "err", err)
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up)
}

func (c *stateCollector) collect(ctx context.Context, ch chan<- prometheus.Metric) error {
	s := c.s
	ins, err := s.st.ListIntegrations(ctx)
	if err != nil {
		return err
	}
	hs, err := s.st.ListHealth(ctx)
	if err != nil {
		return err
	}
	byID := map[int64]*store.Health{}
	for i := range hs {
		byID[hs[i].IntegrationID] = &hs[i]
	}
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	for _, in := range ins {
		v := s.view(in, byID[in.ID])
		ch <- prometheus.MustNewConstMetric(descEvents, counter, float64(v.EventsCollected), in.Name)
		ch <- prometheus.MustNewConstMetric(descLag, gauge, v.LagSeconds, in.Name)
		ch <- prometheus.MustNewConstMetric(descReqs, counter, float64(v.Requests), in.Name)
		ch <- prometheus.MustNewConstMetric(desc429, counter, float64(v.RateLimited), in.Name)
		for i, n := range s.responsesByClass(in) {
			class := "error"
			if i > 0 {
				class = strconv.Itoa(i) + "xx"
			}
			ch <- prometheus.MustNewConstMetric(descStatus, counter, float64(n), in.Name, class)
		}
		ch <- prometheus.MustNewConstMetric(descBudget, gauge, v.BudgetShareUsed, in.Name)
		for _, st := range allStates {
			on := 0.0
			if string(st) == v.State {
				on = 1
			}
			ch <- prometheus.MustNewConstMetric(descState, gauge, on, in.Name, string(st))
		}
	}
	cons, err := s.st.Consumers(ctx)
	if err != nil {
		return err
	}
	for _, cn := range cons {
		if cn.Name == process.DefaultConsumer {
			ch <- prometheus.MustNewConstMetric(descCLag, gauge, float64(cn.Lag))
			ch <- prometheus.MustNewConstMetric(descPOff, counter, float64(cn.Offset))
			perSec := 0.0
			if r := s.rates.observe(-1, cn.Offset, s.now()); r != nil {
				perSec = *r / 60
			}
			ch <- prometheus.MustNewConstMetric(descCRate, gauge, perSec)
			continue
		}
		name, ok := sink.SinkName(cn.Name)
		if !ok {
			continue
		}
		stream := string(cn.Stream)
		ch <- prometheus.MustNewConstMetric(descSLag, gauge, float64(cn.Lag), name, stream)
		ch <- prometheus.MustNewConstMetric(descSDel, counter, float64(cn.Offset), name, stream)
		bad := 0.0
		if cn.StatusError != "" {
			bad = 1
		}
		ch <- prometheus.MustNewConstMetric(descSErr, gauge, bad, name, stream)
	}
	dead, err := s.st.CountDeadLetters(ctx)
	if err != nil {
		return err
	}
	for name, n := range dead {
		ch <- prometheus.MustNewConstMetric(descSDead, gauge, float64(n), name)
	}
	counts, err := s.st.CountAlerts(ctx)
	if err != nil {
		return err
	}
	for _, a := range counts {
		ch <- prometheus.MustNewConstMetric(descAlerts, gauge, float64(a.Count), a.Severity, a.RuleID)
	}
	return nil
}

// metrics serves the registry. Who may read it is server.metrics_auth: loopback clients without a
// key (default), always a viewer key, or anyone.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	open := s.cfg.MetricsAuth == MetricsNone || (s.cfg.MetricsAuth == MetricsLoopback && s.clientAddr(r).IsLoopback())
	if !open || strings.TrimSpace(r.Header.Get("Authorization")) != "" {
		if _, ok := s.authorize(w, r, store.RoleViewer); !ok {
			return nil
		}
	}
	promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{ErrorLog: nil}).ServeHTTP(w, r)
	return nil
}
