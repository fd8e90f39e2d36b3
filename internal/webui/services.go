package webui

import (
	"context"

	"github.com/idwatch/idwatch/internal/console"
)

// AlertsEvents serves the console's alert and event pages; the default runs the API's alert and
// event routes (alerts.go).
type AlertsEvents interface {
	// Alerts lists alerts matching q, newest first, with counts by severity over the whole match.
	Alerts(ctx context.Context, q console.AlertQuery) (console.AlertPage, error)
	// Alert returns one alert with its evidence and history.
	Alert(ctx context.Context, id string) (console.AlertDetail, error)
	// AlertAction acknowledges, resolves, suppresses or annotates an alert.
	AlertAction(ctx context.Context, by console.Principal, id string, a console.AlertAction) error
	// SearchEvents searches the journal.
	SearchEvents(ctx context.Context, q console.EventQuery) (console.EventResult, error)
}

// Rules manages detection rules: enabled state, uploads validated and tested, hot reload.
// Without one the console lists the built-in and rules_dir rules read-only.
type Rules interface {
	// Rules lists built-in and custom rules.
	Rules(ctx context.Context) ([]console.RuleRow, error)
	// UploadRule validates a custom Sigma rule, runs its tests and stores it when both pass.
	UploadRule(ctx context.Context, by console.Principal, filename string, body []byte) (console.RuleUpload, error)
	// SetRuleEnabled enables or disables a rule.
	SetRuleEnabled(ctx context.Context, by console.Principal, id string, enabled bool) error
}

// notInBuild is the answer of a feature whose service is not plugged in.
func notInBuild(what string) error {
	return &console.Error{Message: what + " is not available in this build of idwatch",
		Fix: "Use the command line for it (idwatch help), or run a build of idwatch that includes it."}
}

// Alerts implements console.Backend.
func (b *Backend) Alerts(ctx context.Context, q console.AlertQuery) (console.AlertPage, error) {
	return b.o.AlertsEvents.Alerts(ctx, q)
}

// Alert implements console.Backend.
func (b *Backend) Alert(ctx context.Context, id string) (console.AlertDetail, error) {
	return b.o.AlertsEvents.Alert(ctx, id)
}

// AlertAction implements console.Backend.
func (b *Backend) AlertAction(ctx context.Context, by console.Principal, id string, a console.AlertAction) error {
	if _, err := b.act(ctx, by); err != nil {
		return err
	}
	return b.o.AlertsEvents.AlertAction(ctx, by, id, a)
}

// SearchEvents implements console.Backend.
func (b *Backend) SearchEvents(ctx context.Context, q console.EventQuery) (console.EventResult, error) {
	return b.o.AlertsEvents.SearchEvents(ctx, q)
}

// UploadRule implements console.Backend.
func (b *Backend) UploadRule(ctx context.Context, by console.Principal, filename string, body []byte) (console.RuleUpload, error) {
	if b.o.Rules == nil {
		return console.RuleUpload{}, notInBuild("Uploading rules")
	}
	if _, err := b.act(ctx, by); err != nil {
		return console.RuleUpload{}, err
	}
	return b.o.Rules.UploadRule(ctx, by, filename, body)
}

// SetRuleEnabled implements console.Backend.
func (b *Backend) SetRuleEnabled(ctx context.Context, by console.Principal, id string, enabled bool) error {
	if b.o.Rules == nil {
		return notInBuild("Enabling and disabling rules")
	}
	if _, err := b.act(ctx, by); err != nil {
		return err
	}
	return b.o.Rules.SetRuleEnabled(ctx, by, id, enabled)
}
