package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/sink"
	"github.com/idwatch/idwatch/internal/store"
)

// replayLimit is the most dead letters one replay redelivers.
const replayLimit = 1000

// sinkRoutes report the configured sinks' delivery and manage their dead letters.
func (s *Server) sinkRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/sinks", Role: store.RoleViewer, OperationID: "listSinks", Handler: s.listSinks},
		{Method: "GET", Pattern: "/api/v1/sinks/{name}/deadletters", Role: store.RoleViewer, OperationID: "listDeadLetters", Handler: s.listDeadLetters},
		{Method: "POST", Pattern: "/api/v1/sinks/{name}/deadletters/replay", Role: store.RoleAdmin, OperationID: "replayDeadLetters", Handler: s.replayDeadLetters},
	}
}

// Sink states as the API reports them, from best to worst.
const (
	SinkDelivering = "delivering"
	SinkPaused     = "paused"
	SinkRetrying   = "retrying"
	SinkFailing    = "failing"
)

// SinkView is one configured sink's delivery state.
type SinkView struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Status is delivering, paused (not started), retrying (an outage: the offset waits, nothing
	// is lost) or failing (stopped on an internal error); Since when it entered it.
	Status string    `json:"status"`
	Since  time.Time `json:"since,omitzero"`
	// Lag counts records not yet delivered over every stream the sink reads; LagSeconds is the
	// age of the oldest undelivered journal event.
	Lag        int64   `json:"lag"`
	LagSeconds float64 `json:"lagSeconds"`
	// Streams are the sink's cursors: the seq up to which each stream is delivered.
	Streams     []SinkStream `json:"streams"`
	DeadLetters int64        `json:"deadLetters"`
	LastError   string       `json:"lastError,omitempty"`
}

// SinkStream is a sink's cursor on one stream.
type SinkStream struct {
	Stream   string `json:"stream"`
	Position int64  `json:"position"`
	Lag      int64  `json:"lag"`
}

// SinkViews reports the configured sinks from their consumer offsets and dead letters.
func (s *Server) SinkViews(ctx context.Context) ([]SinkView, error) {
	consumers, err := s.st.Consumers(ctx)
	if err != nil {
		return nil, err
	}
	dead, err := s.st.CountDeadLetters(ctx)
	if err != nil {
		return nil, err
	}
	views := make([]SinkView, 0, len(s.sinks))
	index := map[string]int{}
	for _, c := range s.sinks {
		index[c.Name] = len(views)
		views = append(views, SinkView{Name: c.Name, Type: c.Type, Status: SinkPaused, LastError: "not started yet", Streams: []SinkStream{}, DeadLetters: dead[c.Name]})
	}
	now := s.now()
	for _, c := range consumers {
		name, ok := sink.SinkName(c.Name)
		if !ok {
			continue
		}
		i, ok := index[name]
		if !ok {
			continue // no longer configured: serve removes its offset at start
		}
		v := &views[i]
		if v.Status == SinkPaused {
			v.Status, v.LastError = SinkDelivering, ""
		}
		v.Lag += c.Lag
		v.Streams = append(v.Streams, SinkStream{Stream: string(c.Stream), Position: c.Offset, Lag: c.Lag})
		status := sinkStatus(c)
		if sinkRank(status) > sinkRank(v.Status) {
			v.Status, v.Since = status, c.StatusAt
		}
		if c.StatusError != "" && status != SinkDelivering {
			v.LastError = c.StatusError
		}
		if c.Stream == store.StreamJournal && c.Lag > 0 {
			if next, err := s.st.ReadJournal(ctx, c.Offset, 1, store.ReadFilter{}); err == nil && len(next) > 0 {
				v.LagSeconds = max(v.LagSeconds, now.Sub(next[0].Published).Seconds())
			}
		}
	}
	return views, nil
}

// sinkStatus is the API's word for a consumer's reported state.
func sinkStatus(c store.Consumer) string {
	switch sink.State(c.Status) {
	case sink.StateRetrying, sink.StateConnecting:
		return SinkRetrying
	case sink.StateStopped:
		return SinkFailing
	}
	return SinkDelivering
}

func sinkRank(status string) int {
	return map[string]int{SinkDelivering: 1, SinkPaused: 2, SinkRetrying: 3, SinkFailing: 4}[status]
}

func (s *Server) listSinks(w http.ResponseWriter, r *http.Request) error {
	views, err := s.SinkViews(r.Context())
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, map[string]any{"sinks": views})
	return nil
}

// sinkConfig returns the configured sink of the {name} path value, or a 404.
func (s *Server) sinkConfig(r *http.Request) (sink.Config, error) {
	name := r.PathValue("name")
	for _, c := range s.sinks {
		if c.Name == name {
			return c, nil
		}
	}
	return sink.Config{}, Fail(http.StatusNotFound, CodeNotFound, fmt.Sprintf("no sink named %q is configured", name), "GET /api/v1/sinks lists them", "name")
}

// DeadLetterView is a dead letter without its payload (which may hold personal data and is
// redelivered by replay, not read).
type DeadLetterView struct {
	ID           int64     `json:"id"`
	RecordID     string    `json:"recordId"`
	Error        string    `json:"error"`
	Attempts     int       `json:"attempts"`
	FirstFailure time.Time `json:"firstFailure"`
	LastFailure  time.Time `json:"lastFailure"`
}

func (s *Server) listDeadLetters(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(r, "limit")
	if err != nil {
		return err
	}
	limit := p.intIn("limit", 100, 1, replayLimit)
	if p.err != nil {
		return p.err
	}
	cfg, err := s.sinkConfig(r)
	if err != nil {
		return err
	}
	letters, err := s.st.ListDeadLetters(r.Context(), cfg.Name, limit)
	if err != nil {
		return err
	}
	out := make([]DeadLetterView, 0, len(letters))
	for _, l := range letters {
		out = append(out, DeadLetterView{ID: l.ID, RecordID: l.RecordID, Error: l.Error, Attempts: l.Attempts, FirstFailure: l.FirstFailure, LastFailure: l.LastFailure})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"deadLetters": out})
	return nil
}

func (s *Server) replayDeadLetters(w http.ResponseWriter, r *http.Request) error {
	cfg, err := s.sinkConfig(r)
	if err != nil {
		return err
	}
	p, _ := PrincipalFrom(r.Context())
	sk, err := cfg.Spec.Build(sink.Env{Name: cfg.Name, Logger: s.log.With(slog.String("sink", cfg.Name)), Clock: clock.System{}})
	if err != nil {
		return Fail(http.StatusServiceUnavailable, CodeUnavailable, fmt.Sprintf("sink %s cannot be opened for the replay: %v", cfg.Name, err),
			"fix the sink's settings (idwatch sinks list), then replay again", "")
	}
	res, err := sink.ReplayDeadLetters(r.Context(), s.st, cfg, sk, replayLimit, nil)
	if err != nil {
		return err
	}
	s.log.Info("dead letters replayed", "sink", cfg.Name, "delivered", res.Delivered, "failed", res.Failed, "by", p.Name)
	WriteJSON(w, http.StatusOK, res)
	return nil
}
