package webui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/server"
	"github.com/idwatch/idwatch/internal/store"
)

// The API routes the console's integration pages run through.
const (
	routeList     = "/api/v1/integrations"
	routeOne      = "/api/v1/integrations/{name}"
	routeCreds    = "/api/v1/integrations/{name}/credentials"
	routeEnable   = "/api/v1/integrations/{name}/enable"
	routeDisable  = "/api/v1/integrations/{name}/disable"
	routeBackfill = "/api/v1/integrations/{name}/backfill"
)

func named(name string) map[string]string { return map[string]string{"name": name} }

// list reads the integrations as the API lists them, and records the sample the charts and the
// health history are drawn from.
func (b *Backend) list(ctx context.Context) ([]server.IntegrationView, error) {
	var out struct {
		Integrations []server.IntegrationView `json:"integrations"`
	}
	if _, err := b.o.Server.Invoke(ctx, system, http.MethodGet, routeList, nil, nil, &out); err != nil {
		return nil, userErr(err)
	}
	b.series.observe(b.now(), out.Integrations)
	return out.Integrations, nil
}

// Integrations implements console.Backend.
func (b *Backend) Integrations(ctx context.Context) ([]console.IntegrationRow, error) {
	views, err := b.list(ctx)
	if err != nil {
		return nil, err
	}
	now := b.now()
	rows := make([]console.IntegrationRow, 0, len(views))
	for _, v := range views {
		rows = append(rows, b.row(v, now))
	}
	return rows, nil
}

// row is the table line of an API view.
func (b *Backend) row(v server.IntegrationView, now time.Time) console.IntegrationRow {
	r := console.IntegrationRow{ID: v.Name, Name: v.Name, OrgURL: v.OrgURL, AuthType: "api_token", Enabled: v.Enabled,
		State: consoleState(v.State), Lag: time.Duration(v.LagSeconds * float64(time.Second)), BudgetUsed: v.BudgetShareUsed,
		BudgetShare: b.o.BudgetShare, EventsPerMin: b.series.perMinute(v.Name, now)}
	if v.AuthKind == store.AuthOAuth {
		r.AuthType = "service_app"
	}
	if v.LastEventAt != nil {
		r.LastEvent = *v.LastEventAt
	}
	if v.LastError != nil {
		r.LastError, r.LastFix = v.LastError.Reason, v.LastError.Fix
	}
	return r
}

// consoleState maps the store's health states to the console's words.
func consoleState(s string) string {
	switch store.HealthState(s) {
	case store.HealthCollecting:
		return console.StateCollecting
	case store.HealthPending, store.HealthVerifying:
		return console.StateVerifying
	case store.HealthDegraded:
		return console.StateBackingOff
	case store.HealthError:
		return console.StateFailing
	case store.HealthDisabled:
		return console.StateDisabled
	}
	return s
}

// Integration implements console.Backend.
func (b *Backend) Integration(ctx context.Context, id string) (console.IntegrationDetail, error) {
	var v server.IntegrationView
	if _, err := b.o.Server.Invoke(ctx, system, http.MethodGet, routeOne, named(id), nil, &v); err != nil {
		return console.IntegrationDetail{}, userErr(err)
	}
	now := b.now()
	b.series.observe(now, []server.IntegrationView{v})
	d := console.IntegrationDetail{IntegrationRow: b.row(v, now), ClientID: v.ClientID, KeyID: v.KeyID, Scopes: v.Scopes}
	d.EventsPerHour, d.Requests, d.Throttled = b.series.hourly(v.Name, now)
	d.History = b.series.history(v.Name)
	bf, err := b.BackfillProgress(ctx, id)
	if err != nil {
		return d, err
	}
	d.Backfill = bf
	if bf.State == "running" && d.State == console.StateCollecting {
		d.State = console.StateBackfilling
	}
	return d, nil
}

// Verify implements console.Backend: the verifier's checks, each told as soon as it completes.
// Every failed check blocks collection (the verifier reports logs collectable only when none
// failed); warnings and skips name features that stay off.
func (b *Backend) Verify(ctx context.Context, in console.NewIntegration, emit func(console.VerifyCheck)) error {
	if strings.TrimSpace(in.Name) == "" {
		return &console.Error{Message: "Name the integration", Fix: "A short name such as acme-prod; it names the integration in alerts and commands.", Field: "name"}
	}
	if _, err := b.o.Store.IntegrationByName(ctx, in.Name); err == nil || errors.Is(err, store.ErrCredentialsUnreadable) {
		return &console.Error{Message: fmt.Sprintf("An integration named %q exists", in.Name), Fix: "Pick another name, or rotate that one's credentials on its page.", Field: "name"}
	}
	si := store.Integration{Name: in.Name, OrgURL: in.OrgURL, CustomAttributes: store.DefaultAttributeNames}
	if token := apiToken(in.APIToken); token != "" {
		si.AuthKind, si.Credentials.APIToken = store.AuthAPIToken, secret.New(token)
	} else {
		si.AuthKind, si.ClientID, si.KeyID, si.Scopes = store.AuthOAuth, in.ClientID, in.KeyID, in.Scopes
		si.Credentials.PrivateKeyPEM = secret.New(in.PrivateKey)
	}
	b.o.Verifier.VerifyIntegrationEach(ctx, si, func(c collect.Check) { emit(verifyCheck(c)) })
	return ctx.Err()
}

func apiToken(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "SSWS ") }

// verifyCheck maps one of the verifier's checks to the console's checklist line.
func verifyCheck(c collect.Check) console.VerifyCheck {
	status := map[collect.CheckStatus]string{collect.CheckOK: "pass", collect.CheckWarn: "warn", collect.CheckFail: "fail", collect.CheckSkip: "skip"}[c.Status]
	detail := c.Detail
	if len(c.FeaturesOff) > 0 && c.Status != collect.CheckOK {
		detail = strings.TrimSpace(detail + " (turns off: " + strings.Join(c.FeaturesOff, ", ") + ")")
	}
	return console.VerifyCheck{Name: c.Name, Status: status, Detail: detail, Fix: c.Fix,
		Blocking: c.Status == collect.CheckFail || slices.Contains(c.FeaturesOff, collect.FeatureLogs)}
}

// credentials is the API's body for c.
func credentials(c console.Credentials) server.CredentialsInput {
	if token := apiToken(c.APIToken); token != "" {
		return server.CredentialsInput{APIToken: token}
	}
	return server.CredentialsInput{ServiceApp: &server.ServiceAppInput{ClientID: c.ClientID, KeyID: c.KeyID, PrivateKey: c.PrivateKey, Scopes: c.Scopes}}
}

// AddIntegration implements console.Backend through the API's create, which verifies, stores the
// integration enabled when logs can be collected, and has the collector start on it at once.
func (b *Backend) AddIntegration(ctx context.Context, by console.Principal, in console.NewIntegration) (console.IntegrationRow, error) {
	p, err := b.act(ctx, by)
	if err != nil {
		return console.IntegrationRow{}, err
	}
	body := server.CreateInput{Name: in.Name, OrgURL: in.OrgURL, CredentialsInput: credentials(in.Credentials)}
	var out struct {
		Integration  server.IntegrationView `json:"integration"`
		Verification *collect.Report        `json:"verification"`
	}
	if _, err := b.o.Server.Invoke(ctx, p, http.MethodPost, routeList, nil, body, &out); err != nil {
		return console.IntegrationRow{}, userErr(err)
	}
	b.log.Info("integration added", "integration", in.Name, "by", by.Name, "via", "console", "enabled", out.Integration.Enabled)
	if out.Verification != nil {
		if f := out.Verification.Failed(); f != nil {
			return console.IntegrationRow{}, &console.Error{Message: fmt.Sprintf("Added disabled: %s: %s", f.Name, f.Detail),
				Fix: f.Fix + " Then enable it on its page."}
		}
	}
	return b.row(out.Integration, b.now()), nil
}

// verification is the answer of the API's enable and credential routes.
type verification struct {
	Verification collect.Report `json:"verification"`
}

// refused is the console error of a verification that failed.
func (v verification) refused(what string) error {
	f := v.Verification.Failed()
	if f == nil {
		return &console.Error{Message: what + ": verification failed", Fix: "Verify the integration and fix what it reports."}
	}
	return &console.Error{Message: fmt.Sprintf("%s: %s failed: %s", what, f.Name, f.Detail), Fix: f.Fix}
}

// SetIntegrationEnabled implements console.Backend; enabling verifies first, as the API does.
func (b *Backend) SetIntegrationEnabled(ctx context.Context, by console.Principal, id string, enabled bool) error {
	p, err := b.act(ctx, by)
	if err != nil {
		return err
	}
	route := routeDisable
	if enabled {
		route = routeEnable
	}
	var out verification
	status, err := b.o.Server.Invoke(ctx, p, http.MethodPost, route, named(id), nil, &out)
	if err != nil {
		return userErr(err)
	}
	if status == http.StatusUnprocessableEntity {
		return out.refused("Not enabled")
	}
	b.log.Info("integration enabled state changed", "integration", id, "enabled", enabled, "by", by.Name, "via", "console")
	return nil
}

// Rotate implements console.Backend: the new credentials are verified first; id and cursor stay.
func (b *Backend) Rotate(ctx context.Context, by console.Principal, id string, c console.Credentials) error {
	p, err := b.act(ctx, by)
	if err != nil {
		return err
	}
	var out verification
	status, err := b.o.Server.Invoke(ctx, p, http.MethodPut, routeCreds, named(id), credentials(c), &out)
	if err != nil {
		return userErr(err)
	}
	if status == http.StatusUnprocessableEntity {
		return out.refused("Credentials not changed")
	}
	b.log.Info("integration credentials rotated", "integration", id, "by", by.Name, "via", "console")
	return nil
}

// StartBackfill implements console.Backend with the server's backfill registry.
func (b *Backend) StartBackfill(ctx context.Context, by console.Principal, id string, since, until time.Time) error {
	p, err := b.act(ctx, by)
	if err != nil {
		return err
	}
	body := server.BackfillInput{Since: since}
	if !until.IsZero() {
		body.Until = &until
	}
	if _, err := b.o.Server.Invoke(ctx, p, http.MethodPost, routeBackfill, named(id), body, nil); err != nil {
		return userErr(err)
	}
	b.log.Info("backfill started", "integration", id, "since", since, "until", until, "by", by.Name, "via", "console")
	return nil
}

// BackfillProgress implements console.Backend; State is "" when no backfill ran since the start.
func (b *Backend) BackfillProgress(ctx context.Context, id string) (console.Backfill, error) {
	var j server.BackfillJob
	_, err := b.o.Server.Invoke(ctx, system, http.MethodGet, routeBackfill, named(id), nil, &j)
	var re *server.RequestError
	if errors.As(err, &re) && re.Status == http.StatusNotFound {
		if _, err := b.o.Store.IntegrationByName(ctx, id); errors.Is(err, store.ErrNotFound) {
			return console.Backfill{}, console.ErrNotFound
		}
		return console.Backfill{}, nil
	}
	if err != nil {
		return console.Backfill{}, userErr(err)
	}
	bf := console.Backfill{State: j.State, Since: j.Since, Until: j.Until, Events: j.Events}
	if j.Covered != nil {
		bf.Reached = *j.Covered
	}
	if j.Error != nil {
		bf.Error = strings.TrimSpace(j.Error.Reason + ". " + j.Error.Fix)
	}
	return bf, nil
}
