package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/idwatch/idwatch/internal/detect/sigma"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/store"
)

// Consumer is the alert-stream consumer name under which rules' responses run.
const Consumer = "respond"

// alertPage is how many alerts one read takes.
const alertPage = 500

// defaultUserField names the user a rule's response acts on when the rule does not say.
const defaultUserField = "actor.alternateId"

// Register registers the response consumer at the end of the alert stream when it is new, so
// that rules act on alerts raised from now on, never on the history a first start finds. Call it
// before the processor's first cycle.
func (r *Responder) Register(ctx context.Context) error {
	if _, err := r.st.Offset(ctx, Consumer); err == nil || !errors.Is(err, store.ErrNotFound) {
		return err
	}
	last, err := r.st.LastAlertSeq(ctx)
	if err != nil {
		return err
	}
	_, err = r.st.RegisterConsumer(ctx, Consumer, store.StreamAlerts, last)
	return err
}

// ConsumeAlerts reads the alerts after its offset and, for each whose rule has a response, takes
// (auto) or proposes (propose) its actions, then commits the offset. Each action's idempotency
// key is the alert id and the action, so an alert read again after a crash acts once.
func (r *Responder) ConsumeAlerts(ctx context.Context) error {
	if err := r.Register(ctx); err != nil {
		return fmt.Errorf("respond: %w", err)
	}
	off, err := r.st.Offset(ctx, Consumer)
	if err != nil {
		return fmt.Errorf("respond: %w", err)
	}
	for {
		alerts, err := r.st.ReadAlerts(ctx, off, alertPage)
		if err != nil {
			return fmt.Errorf("respond: %w", err)
		}
		for _, a := range alerts {
			if err := r.respondTo(ctx, a); err != nil {
				return fmt.Errorf("respond to alert %s: %w", a.ID, err)
			}
			if err := r.st.CommitOffset(ctx, Consumer, a.Seq); err != nil {
				return fmt.Errorf("respond: %w", err)
			}
			off = a.Seq
		}
		if len(alerts) < alertPage {
			return nil
		}
	}
}

// finding is what a response needs from a stored Detection Finding.
type finding struct {
	Message string `json:"message"`
	Info    struct {
		Title   string `json:"title"`
		Related []struct {
			UID string `json:"uid"`
		} `json:"related_events"`
	} `json:"finding_info"`
	Unmapped struct {
		GroupBy []struct {
			Field string `json:"field"`
			Value string `json:"value"`
		} `json:"group_by"`
		Response *sigma.Response `json:"response"`
	} `json:"unmapped"`
}

// respondTo runs the response of one alert's rule. Errors are for the store only: an action that
// cannot be taken is recorded as refused or failed.
func (r *Responder) respondTo(ctx context.Context, a store.Alert) error {
	var f finding
	if json.Unmarshal(a.Body, &f) != nil || f.Unmapped.Response == nil {
		return nil
	}
	spec := f.Unmapped.Response
	mode := r.cfg.ruleMode(spec.Mode)
	if mode == ModeOff {
		return nil
	}
	reason := fmt.Sprintf("alert %s (%s): %s", a.ID, a.RuleID, f.Message)
	if mode == ModeAuto && r.clock.Now().Sub(a.Time) > r.cfg.maxAlertAge() {
		mode = ModePropose
		reason += fmt.Sprintf("; proposed rather than executed: the alert is older than respond.max_alert_age (%s)", r.cfg.maxAlertAge())
	}
	field := spec.User
	if field == "" {
		field = defaultUserField
	}
	user, err := r.alertUser(ctx, a, f, field)
	if err != nil {
		return err
	}
	if user == "" {
		r.log.Warn("respond: the alert names no user to act on", "alert", a.ID, "rule", a.RuleID, "field", field)
		return nil
	}
	for _, name := range spec.Actions {
		act, ok := ParseAction(name)
		if !ok {
			r.log.Warn("respond: rule names an unknown action", "rule", a.RuleID, "action", name)
			continue
		}
		req := Request{IntegrationID: a.IntegrationID, Action: act, User: user, Reason: reason, By: "rule:" + a.RuleID,
			Key: "alert:" + a.ID + "/" + string(act), Mode: mode, RuleID: a.RuleID, AlertID: a.ID,
			Options: &Options{OAuthTokens: spec.OAuthTokens || r.cfg.RevokeOAuthTokens, ForgetDevices: r.cfg.forgetDevices()}}
		if mode == ModePropose || act == Deactivate {
			if _, err := r.Propose(ctx, req); err != nil {
				if !isRequestError(err) {
					return err
				}
				r.log.Warn("respond: rule action not proposed", "rule", a.RuleID, "alert", a.ID, "action", act, "err", err)
			}
			continue
		}
		out, err := r.Execute(ctx, req)
		if err != nil {
			if !isRequestError(err) {
				return err
			}
			r.log.Warn("respond: rule action not taken", "rule", a.RuleID, "alert", a.ID, "action", act, "err", err)
			continue
		}
		r.log.Info("respond: rule action", "rule", a.RuleID, "alert", a.ID, "action", act, "user", user,
			"status", out.Action.Status, "result", out.Action.Result)
	}
	return nil
}

// isRequestError reports an error about the request itself (recorded nowhere, logged by the
// caller) rather than the store.
func isRequestError(err error) bool {
	return !errors.Is(err, store.ErrUnavailable) && !errors.Is(err, store.ErrCorrupt) && !errors.Is(err, context.Canceled)
}

// alertUser finds the user a response acts on: the alert's group-by value of field, else field in
// its first evidence event still in the journal.
func (r *Responder) alertUser(ctx context.Context, a store.Alert, f finding, field string) (string, error) {
	for _, g := range f.Unmapped.GroupBy {
		if strings.EqualFold(g.Field, field) && g.Value != "" {
			return g.Value, nil
		}
	}
	path, err := event.ParsePath(field)
	if err != nil || len(f.Info.Related) == 0 {
		return "", nil
	}
	entries, err := r.st.JournalByUUID(ctx, a.IntegrationID, []string{f.Info.Related[0].UID})
	if err != nil || len(entries) == 0 {
		return "", err
	}
	doc, err := event.ParseDoc(entries[0].Raw)
	if err != nil {
		return "", nil
	}
	var v string
	doc.Each(path, func(x any) bool {
		v, _ = event.Text(x)
		return v == ""
	})
	return v, nil
}
