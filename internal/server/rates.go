package server

import (
	"sync"
	"time"
)

// rates measures events per minute from the running totals the store keeps, between the looks
// this server takes at them (list, get, metrics scrapes).
type rates struct {
	mu   sync.Mutex
	seen map[int64][]sample
}

type sample struct {
	at    time.Time
	total int64
}

// rateWindow is the span rates average over.
const rateWindow = 5 * time.Minute

func newRates() *rates { return &rates{seen: map[int64][]sample{}} }

// observe records total at now and returns the rate over the samples of the last rateWindow, or
// nil while they span under 10 seconds.
func (r *rates) observe(id int64, total int64, now time.Time) *float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	ss := append(r.seen[id], sample{now, total})
	for len(ss) > 2 && now.Sub(ss[1].at) >= rateWindow {
		ss = ss[1:]
	}
	if len(ss) > 64 { // bound memory under frequent polling: keep the oldest and the newest
		ss = append(ss[:1], ss[len(ss)-32:]...)
	}
	r.seen[id] = ss
	first := ss[0]
	span := now.Sub(first.at)
	if span < 10*time.Second || total < first.total {
		return nil
	}
	v := float64(total-first.total) / span.Minutes()
	return &v
}
