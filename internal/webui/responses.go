package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/respond"
	"github.com/idwatch/idwatch/internal/server"
	"github.com/idwatch/idwatch/internal/store"
)

// The API routes the console's response pages run through.
const (
	routeResponses = "/api/v1/responses"
	routeResponse  = "/api/v1/responses/{id}"
)

func (b *Backend) responseRow(a store.ResponseAction, names map[int64]string) console.ResponseRow {
	return console.ResponseRow{ID: a.ID, Action: a.Action, User: a.User, Integration: names[a.IntegrationID], Status: a.Status,
		RequestedBy: a.RequestedBy, Mode: a.Mode, Reason: a.Reason, AlertID: a.AlertID, Result: a.Result, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

// integrationNames maps integration ids to names for the console's tables.
func (b *Backend) integrationNames(ctx context.Context) map[int64]string {
	names := map[int64]string{}
	if views, err := b.list(ctx); err == nil {
		for _, v := range views {
			names[v.ID] = v.Name
		}
	}
	return names
}

// Responses implements console.Backend.
func (b *Backend) Responses(ctx context.Context, status string) ([]console.ResponseRow, error) {
	q := url.Values{"limit": {"200"}}
	if status != "" {
		q.Set("status", status)
	}
	var out struct {
		Responses []store.ResponseAction `json:"responses"`
	}
	if _, err := b.o.Server.InvokeQuery(ctx, system, http.MethodGet, routeResponses, nil, q, nil, &out); err != nil {
		return nil, userErr(err)
	}
	names := b.integrationNames(ctx)
	rows := make([]console.ResponseRow, 0, len(out.Responses))
	for _, a := range out.Responses {
		rows = append(rows, b.responseRow(a, names))
	}
	return rows, nil
}

// Response implements console.Backend.
func (b *Backend) Response(ctx context.Context, id string) (console.ResponseDetail, error) {
	var t server.ResponseTrail
	if _, err := b.o.Server.Invoke(ctx, system, http.MethodGet, routeResponse, map[string]string{"id": id}, nil, &t); err != nil {
		return console.ResponseDetail{}, userErr(err)
	}
	d := console.ResponseDetail{ResponseRow: b.responseRow(t.Action, b.integrationNames(ctx))}
	for _, r := range t.Trail {
		st := console.ResponseStep{At: r.At, By: r.By, Kind: r.Kind, Status: r.Status, Text: r.Text}
		if r.Method != "" {
			st.Call = r.Method + " " + r.Path
			if r.OktaStatus != 0 {
				st.Call += " → " + strconv.Itoa(r.OktaStatus)
			}
		}
		d.Trail = append(d.Trail, st)
	}
	return d, nil
}

func calls(cs []respond.Call) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.String())
	}
	return out
}

// RequestResponse implements console.Backend, as the signed-in key.
func (b *Backend) RequestResponse(ctx context.Context, by console.Principal, req console.ResponseRequest) (console.ResponseOutcome, error) {
	p, err := b.act(ctx, by)
	if err != nil {
		return console.ResponseOutcome{}, err
	}
	in := server.ResponseInput{Integration: req.Integration, Action: req.Action, User: req.User, Reason: req.Reason, AlertID: req.AlertID,
		DryRun: req.Mode == console.ResponseDryRun, Propose: req.Mode == console.ResponsePropose, Confirm: req.Confirm}
	var out respond.Outcome
	if _, err := b.o.Server.Invoke(ctx, p, http.MethodPost, routeResponses, nil, in, &out); err != nil {
		return console.ResponseOutcome{}, userErr(err)
	}
	return console.ResponseOutcome{ID: out.Action.ID, Status: out.Action.Status, Refusal: out.Refusal, Calls: calls(out.Calls),
		Checks: calls(out.Checks), Replayed: out.Replayed}, nil
}

// DecideResponse implements console.Backend, as the signed-in key.
func (b *Backend) DecideResponse(ctx context.Context, by console.Principal, id string, approve, confirm bool, note string) error {
	p, err := b.act(ctx, by)
	if err != nil {
		return err
	}
	route := routeResponse + "/reject"
	if approve {
		route = routeResponse + "/approve"
	}
	body := map[string]any{"confirm": confirm}
	if note != "" {
		body["note"] = note
	}
	var out respond.Outcome
	if _, err := b.o.Server.Invoke(ctx, p, http.MethodPost, route, map[string]string{"id": id}, body, &out); err != nil {
		return userErr(err)
	}
	if approve && out.Action.Status != store.ResponseExecuted {
		return &console.Error{Message: fmt.Sprintf("The action ended %s: %s", out.Action.Status, out.Action.Result),
			Fix: "The audit trail below shows Okta's answer; fix what it names (a permission, a scope) and request the action again."}
	}
	return nil
}
