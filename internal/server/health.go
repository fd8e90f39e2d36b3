package server

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Readiness holds the state of each part of the running service (collect, process, sinks, …),
// set by whoever runs them and read by /readyz.
type Readiness struct {
	mu    sync.Mutex
	parts map[string]ComponentState
	ping  func(context.Context) error
}

// ComponentState is one part's state: running, or the reason it is not.
type ComponentState struct {
	Name    string `json:"name"`
	Running bool   `json:"running"`
	// Reason says why the part is not running (never a secret: parts pass their own summaries).
	Reason string `json:"reason,omitempty"`
}

// NewReadiness returns an empty Readiness.
func NewReadiness() *Readiness { return &Readiness{parts: map[string]ComponentState{}} }

// SetPing sets the store check of /readyz.
func (r *Readiness) SetPing(ping func(context.Context) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ping = ping
}

// Set records a part's state.
func (r *Readiness) Set(name string, running bool, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.parts[name] = ComponentState{Name: name, Running: running, Reason: reason}
}

// Components returns every part's state, by name.
func (r *Readiness) Components() []ComponentState {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ComponentState, 0, len(r.parts))
	for _, c := range r.parts {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b ComponentState) int {
		if a.Name < b.Name {
			return -1
		}
		return 1
	})
	return out
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) error {
	WriteJSON(w, http.StatusOK, map[string]any{"status": "alive", "version": s.version})
	return nil
}

// readyz answers 200 when the store answers and every part runs, else 503 with the reasons. It
// needs no key, so it says only states and fixed summaries: no paths, addresses or errors text
// of the database.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	s.ready.mu.Lock()
	ping := s.ready.ping
	s.ready.mu.Unlock()
	storeState := ComponentState{Name: "store", Running: true}
	if ping != nil {
		if err := ping(ctx); err != nil {
			s.log.Warn("readiness: the store does not answer", "err", err)
			storeState = ComponentState{Name: "store", Reason: "the database does not answer; see the service log"}
		}
	}
	parts := append([]ComponentState{storeState}, s.ready.Components()...)
	ready := true
	for _, p := range parts {
		ready = ready && p.Running
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	WriteJSON(w, status, map[string]any{"ready": ready, "components": parts})
	return nil
}
