package webui

import (
	"context"
	"fmt"
	"strings"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/sink"
	"github.com/idwatch/idwatch/internal/store"
)

// replayLimit is the most dead letters one replay redelivers.
const replayLimit = 1000

// Sinks implements console.Backend from the configured sinks and their consumer offsets.
func (b *Backend) Sinks(ctx context.Context) ([]console.SinkRow, error) {
	consumers, err := b.o.Store.Consumers(ctx)
	if err != nil {
		return nil, err
	}
	dead, err := b.o.Store.CountDeadLetters(ctx)
	if err != nil {
		return nil, err
	}
	rows := []console.SinkRow{}
	index := map[string]int{}
	for _, c := range b.o.Sinks {
		index[c.Name] = len(rows)
		rows = append(rows, console.SinkRow{Name: c.Name, Type: c.Type, Status: "paused", LastError: "not started yet", DeadLetters: dead[c.Name]})
	}
	now := b.now()
	for _, c := range consumers {
		name, ok := sink.SinkName(c.Name)
		if !ok {
			continue
		}
		i, ok := index[name]
		if !ok {
			continue // no longer configured: serve removes its offset at start
		}
		r := &rows[i]
		if r.LastError == "not started yet" {
			r.Status, r.LastError = "delivering", ""
		}
		r.Lag += c.Lag
		r.Delivered += c.Offset
		status, msg := sinkStatus(c)
		if rank(status) > rank(r.Status) {
			r.Status = status
		}
		if msg != "" {
			r.LastError, r.Errors = msg, r.Errors+1
		}
		if c.Stream == store.StreamJournal && c.Lag > 0 {
			if next, err := b.o.Store.ReadJournal(ctx, c.Offset, 1, store.ReadFilter{}); err == nil && len(next) > 0 {
				r.LagAge = max(r.LagAge, now.Sub(next[0].Published))
			}
		}
	}
	return rows, nil
}

// sinkStatus is the console's word for a consumer's reported status, and its error.
func sinkStatus(c store.Consumer) (string, string) {
	switch sink.State(c.Status) {
	case sink.StateRetrying, sink.StateConnecting:
		return "retrying", c.StatusError
	case sink.StateStopped:
		return "failing", c.StatusError
	}
	return "delivering", ""
}

func rank(status string) int {
	return map[string]int{"delivering": 1, "paused": 2, "retrying": 3, "failing": 4}[status]
}

// DeadLetters implements console.Backend.
func (b *Backend) DeadLetters(ctx context.Context, name string, limit int) ([]console.DeadLetter, error) {
	if _, ok := b.sinkConfig(name); !ok {
		return nil, console.ErrNotFound
	}
	letters, err := b.o.Store.ListDeadLetters(ctx, name, limit)
	if err != nil {
		return nil, err
	}
	out := make([]console.DeadLetter, 0, len(letters))
	for _, l := range letters {
		reason := l.Error
		if l.Attempts > 1 {
			reason = fmt.Sprintf("%s (%d attempts)", reason, l.Attempts)
		}
		out = append(out, console.DeadLetter{Seq: l.ID, UUID: l.RecordID, At: l.LastFailure, Reason: reason})
	}
	return out, nil
}

func (b *Backend) sinkConfig(name string) (sink.Config, bool) {
	for _, c := range b.o.Sinks {
		if c.Name == name {
			return c, true
		}
	}
	return sink.Config{}, false
}

// ReplayDeadLetters implements console.Backend: up to 1,000 of the sink's letters are delivered
// again through a connection of their own; those that fail again go back with their new error.
func (b *Backend) ReplayDeadLetters(ctx context.Context, by console.Principal, name string) (int, error) {
	if _, err := b.act(ctx, by); err != nil {
		return 0, err
	}
	cfg, ok := b.sinkConfig(name)
	if !ok {
		return 0, console.ErrNotFound
	}
	s, err := cfg.Spec.Build(sink.Env{Name: cfg.Name, Logger: b.log, Clock: clock.System{}})
	if err != nil {
		return 0, err
	}
	res, err := sink.ReplayDeadLetters(ctx, b.o.Store, cfg, s, replayLimit, nil)
	if err != nil {
		return 0, err
	}
	b.log.Info("dead letters replayed", "sink", name, "delivered", res.Delivered, "failed", res.Failed, "by", by.Name, "via", "console")
	if res.Failed > 0 {
		return res.Delivered, &console.Error{Message: fmt.Sprintf("%d delivered, %d failed again (%s): %s", res.Delivered, res.Failed, res.Class, strings.TrimSpace(res.Error)),
			Fix: "They stay dead letters; fix the sink (see its error) and replay again."}
	}
	return res.Delivered, nil
}
