package webui

import (
	"context"
	"net/http"
	"strings"

	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/server"
)

// The API routes the console's rules page runs through.
const (
	routeRules       = "/api/v1/rules"
	routeRuleEnable  = "/api/v1/rules/{id}/enable"
	routeRuleDisable = "/api/v1/rules/{id}/disable"
)

// Rules implements console.Backend over the API's rule list.
func (b *Backend) Rules(ctx context.Context) ([]console.RuleRow, error) {
	var out struct {
		Rules []server.RuleView `json:"rules"`
	}
	if _, err := b.o.Server.Invoke(ctx, system, http.MethodGet, routeRules, nil, nil, &out); err != nil {
		return nil, userErr(err)
	}
	rows := make([]console.RuleRow, 0, len(out.Rules))
	for _, r := range out.Rules {
		row := console.RuleRow{ID: r.ID, Title: r.Title, Level: r.Level, Enabled: r.Enabled, Alerts: int(r.Alerts),
			Custom: r.Source != server.RuleBuiltin, Source: map[string]string{server.RuleBuiltin: "built-in", server.RuleFolder: "folder", server.RuleCustom: "custom"}[r.Source]}
		for _, t := range r.Tags {
			if tactic, ok := cutTactic(t); ok {
				row.Tactics = append(row.Tactics, tactic)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// UploadRule implements console.Backend through the API's upload, as the signed-in key.
func (b *Backend) UploadRule(ctx context.Context, by console.Principal, filename string, body, tests []byte) (console.RuleUpload, error) {
	p, err := b.act(ctx, by)
	if err != nil {
		return console.RuleUpload{}, err
	}
	var res server.RuleUploadResult
	in := server.RuleUploadInput{Filename: filename, Rule: string(body), Tests: string(tests)}
	if _, err := b.o.Server.Invoke(ctx, p, http.MethodPost, routeRules, nil, in, &res); err != nil {
		return console.RuleUpload{}, userErr(err)
	}
	up := console.RuleUpload{ID: strings.Join(res.RuleIDs, ", "), Stored: res.Stored, Untested: res.Untested}
	for _, pr := range res.Problems {
		up.Problems = append(up.Problems, console.RuleProblem{Line: pr.Line, Column: pr.Column, Message: pr.Message})
	}
	for _, t := range res.Tests {
		up.Tests = append(up.Tests, console.RuleTest{Name: t.Name, Passed: t.Passed, Detail: t.Message})
	}
	return up, nil
}

// SetRuleEnabled implements console.Backend, as the signed-in key.
func (b *Backend) SetRuleEnabled(ctx context.Context, by console.Principal, id string, enabled bool) error {
	p, err := b.act(ctx, by)
	if err != nil {
		return err
	}
	route := routeRuleDisable
	if enabled {
		route = routeRuleEnable
	}
	if _, err := b.o.Server.Invoke(ctx, p, http.MethodPost, route, map[string]string{"id": id}, nil, nil); err != nil {
		return userErr(err)
	}
	return nil
}
