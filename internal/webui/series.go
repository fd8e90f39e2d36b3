package webui

import (
	"context"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/server"
)

// sampleEvery is how often Run samples the integrations' running totals.
const sampleEvery = 15 * time.Second

// keepSamples is the span of samples kept: the 24-hour charts, plus one hour to start from.
const keepSamples = 25 * time.Hour

// maxHistory bounds each integration's health history.
const maxHistory = 100

// sample is an integration's running totals at one moment.
type sample struct {
	at                          time.Time
	events, requests, throttled int64
}

// track is what the backend remembers of one integration: its totals over the last day and its
// health changes, both since this server started (the store keeps totals and the latest state
// only).
type track struct {
	samples []sample
	history []console.HealthChange
}

// series holds the tracks by integration name.
type series struct {
	mu     sync.Mutex
	tracks map[string]*track
}

func newSeries() *series { return &series{tracks: map[string]*track{}} }

// Run samples the integrations every 15 seconds until ctx ends, so the charts and the health
// history fill in whether or not anyone has the console open.
func (b *Backend) Run(ctx context.Context) error {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		if _, err := b.list(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("console: sampling the integrations' totals", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// observe records views seen at now: their totals (at most one sample a second) and any change
// of state or reason.
func (s *series) observe(now time.Time, views []server.IntegrationView) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range views {
		tr := s.tracks[v.Name]
		if tr == nil {
			tr = &track{}
			s.tracks[v.Name] = tr
		}
		smp := sample{at: now, events: v.EventsCollected, requests: v.Requests, throttled: v.RateLimited}
		if n := len(tr.samples); n > 0 && now.Sub(tr.samples[n-1].at) < time.Second {
			tr.samples[n-1] = smp
		} else {
			tr.samples = append(tr.samples, smp)
		}
		drop := 0
		for drop < len(tr.samples)-1 && now.Sub(tr.samples[drop].at) > keepSamples {
			drop++
		}
		tr.samples = tr.samples[drop:]
		reason := ""
		if v.LastError != nil {
			reason = v.LastError.Reason
		}
		state := consoleState(v.State)
		if n := len(tr.history); n == 0 || tr.history[n-1].State != state || tr.history[n-1].Reason != reason {
			tr.history = append(tr.history, console.HealthChange{At: now, State: state, Reason: reason})
			if len(tr.history) > maxHistory {
				tr.history = tr.history[len(tr.history)-maxHistory:]
			}
		}
	}
}

// at returns the totals last sampled at or before t; ok is false before the first sample.
func (tr *track) at(t time.Time) (sample, bool) {
	var last sample
	found := false
	for _, s := range tr.samples {
		if s.at.After(t) {
			break
		}
		last, found = s, true
	}
	return last, found
}

// deltas returns, for n buckets of width w ending at end, how much each total grew within the
// bucket. Buckets before the first sample are zero.
func (tr *track) deltas(end time.Time, n int, w time.Duration) []sample {
	out := make([]sample, n)
	start := end.Add(-time.Duration(n) * w)
	prev, havePrev := tr.at(start)
	for i := range out {
		cur, ok := tr.at(start.Add(time.Duration(i+1) * w))
		if ok && !havePrev {
			prev, havePrev = tr.samples[0], true
		}
		if ok {
			out[i] = sample{at: start.Add(time.Duration(i) * w), events: max(cur.events-prev.events, 0),
				requests: max(cur.requests-prev.requests, 0), throttled: max(cur.throttled-prev.throttled, 0)}
			prev = cur
		} else {
			out[i].at = start.Add(time.Duration(i) * w)
		}
	}
	return out
}

// perMinute is the events collected in each of the last 60 minutes, oldest first.
func (s *series) perMinute(name string, now time.Time) []float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]float64, 60)
	tr := s.tracks[name]
	if tr == nil {
		return out
	}
	for i, d := range tr.deltas(now, 60, time.Minute) {
		out[i] = float64(d.events)
	}
	return out
}

// hourly is events, requests and 429 responses in each of the last 24 hours, oldest first.
func (s *series) hourly(name string, now time.Time) (events, requests, throttled []console.Point) {
	s.mu.Lock()
	defer s.mu.Unlock()
	events, requests, throttled = make([]console.Point, 24), make([]console.Point, 24), make([]console.Point, 24)
	end := now.Truncate(time.Hour).Add(time.Hour)
	var ds []sample
	if tr := s.tracks[name]; tr != nil {
		ds = tr.deltas(end, 24, time.Hour)
	} else {
		ds = (&track{}).deltas(end, 24, time.Hour)
	}
	for i, d := range ds {
		events[i] = console.Point{T: d.at, V: float64(d.events)}
		requests[i] = console.Point{T: d.at, V: float64(d.requests)}
		throttled[i] = console.Point{T: d.at, V: float64(d.throttled)}
	}
	return events, requests, throttled
}

// history is the integration's health changes, newest first.
func (s *series) history(name string) []console.HealthChange {
	s.mu.Lock()
	defer s.mu.Unlock()
	tr := s.tracks[name]
	if tr == nil {
		return nil
	}
	out := make([]console.HealthChange, len(tr.history))
	for i, h := range tr.history {
		out[len(out)-1-i] = h
	}
	return out
}
