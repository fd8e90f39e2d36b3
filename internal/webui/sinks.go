package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/server"
	"github.com/idwatch/idwatch/internal/sink"
)

// The API routes the console's sinks page runs through.
const (
	routeSinks       = "/api/v1/sinks"
	routeDeadLetters = "/api/v1/sinks/{name}/deadletters"
	routeReplay      = "/api/v1/sinks/{name}/deadletters/replay"
)

// Sinks implements console.Backend over the API's sink list.
func (b *Backend) Sinks(ctx context.Context) ([]console.SinkRow, error) {
	var out struct {
		Sinks []server.SinkView `json:"sinks"`
	}
	if _, err := b.o.Server.Invoke(ctx, system, http.MethodGet, routeSinks, nil, nil, &out); err != nil {
		return nil, userErr(err)
	}
	rows := make([]console.SinkRow, 0, len(out.Sinks))
	for _, v := range out.Sinks {
		r := console.SinkRow{Name: v.Name, Type: v.Type, Status: v.Status, Since: v.Since, Lag: v.Lag,
			LagAge: time.Duration(v.LagSeconds * float64(time.Second)), DeadLetters: v.DeadLetters, LastError: v.LastError}
		for _, s := range v.Streams {
			if s.Stream == "journal" {
				r.Position = s.Position
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// DeadLetters implements console.Backend.
func (b *Backend) DeadLetters(ctx context.Context, name string, limit int) ([]console.DeadLetter, error) {
	var out struct {
		DeadLetters []server.DeadLetterView `json:"deadLetters"`
	}
	q := url.Values{"limit": {strconv.Itoa(min(max(limit, 1), 1000))}}
	if _, err := b.o.Server.InvokeQuery(ctx, system, http.MethodGet, routeDeadLetters, named(name), q, nil, &out); err != nil {
		return nil, userErr(err)
	}
	letters := make([]console.DeadLetter, 0, len(out.DeadLetters))
	for _, l := range out.DeadLetters {
		reason := l.Error
		if l.Attempts > 1 {
			reason = fmt.Sprintf("%s (%d attempts)", reason, l.Attempts)
		}
		letters = append(letters, console.DeadLetter{Seq: l.ID, UUID: l.RecordID, At: l.LastFailure, Reason: reason})
	}
	return letters, nil
}

// ReplayDeadLetters implements console.Backend, as the signed-in key: up to 1,000 of the sink's
// letters are delivered again through a connection of their own; those that fail again go back
// with their new error.
func (b *Backend) ReplayDeadLetters(ctx context.Context, by console.Principal, name string) (int, error) {
	p, err := b.act(ctx, by)
	if err != nil {
		return 0, err
	}
	var res sink.ReplayResult
	if _, err := b.o.Server.Invoke(ctx, p, http.MethodPost, routeReplay, named(name), nil, &res); err != nil {
		return 0, userErr(err)
	}
	if res.Failed > 0 {
		return res.Delivered, &console.Error{Message: fmt.Sprintf("%d delivered, %d failed again (%s): %s", res.Delivered, res.Failed, res.Class, strings.TrimSpace(res.Error)),
			Fix: "They stay dead letters; fix the sink (see its error) and replay again."}
	}
	return res.Delivered, nil
}
