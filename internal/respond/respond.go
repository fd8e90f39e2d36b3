// Package respond takes response actions on Okta users — suspend, unsuspend, deactivate, clear
// sessions, reset factors, expire password — for an analyst (CLI, API) or a detection rule, behind
// guard rails: a dry run that lists the exact Okta calls, a deny-list (the connector's own account,
// the last active super admin, protected users and groups), an idempotency key per action, a
// read-back that verifies the change, errors that name the missing Okta permission, and an
// append-only audit trail of every step in the store.
package respond

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/feature"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store"
)

// Clients opens the Okta client of an integration (sharing the org's rate governor) and returns
// the integration with it.
type Clients func(ctx context.Context, integrationID int64) (*okta.Client, store.Integration, error)

// Deps are what a Responder works with.
type Deps struct {
	Store   store.Store
	Clients Clients
	// Clock and Logger default to the system clock and a discarding logger.
	Clock  clock.Clock
	Logger *slog.Logger
}

// Responder runs response actions. It is safe for concurrent use; an action is claimed in the
// store before its Okta call, so it runs once however many callers approve or replay it.
type Responder struct {
	cfg   Config
	st    store.Store
	okta  Clients
	clock clock.Clock
	log   *slog.Logger
}

// New validates cfg and returns a Responder.
func New(cfg Config, d Deps) (*Responder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("respond: %w", err)
	}
	if d.Store == nil || d.Clients == nil {
		return nil, errors.New("respond: needs a store and Okta clients")
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Responder{cfg: cfg, st: d.Store, okta: d.Clients, clock: d.Clock, log: d.Logger}, nil
}

// Request asks for one action on one user.
type Request struct {
	IntegrationID int64
	Action        Action
	// User is the Okta user id or login.
	User string
	// Options are the action's options; nil takes the configured defaults.
	Options *Options
	Reason  string
	// By names the requester: "cli:<os user>", "api:<key name>", "rule:<rule id>".
	By string
	// Key is the idempotency key: the same key gets the same action back and sends nothing
	// again. Empty: a new action every time.
	Key string
	// DryRun resolves the user, checks the guard rails (reads only) and lists the calls an
	// execution would make, storing nothing and changing nothing.
	DryRun bool
	// Confirm must be set to deactivate (it deprovisions the user from every app and cannot be
	// undone by unsuspend).
	Confirm bool
	// Mode, RuleID and AlertID are set for actions a rule asks for (Mode manual otherwise).
	Mode, RuleID, AlertID string
}

// Outcome is what a request led to.
type Outcome struct {
	// Action is the stored action (zero for a dry run).
	Action store.ResponseAction `json:"action"`
	// Replayed is true when the idempotency key named an existing action: nothing was sent.
	Replayed bool `json:"replayed,omitempty"`
	// Checks are the reads the guard rails made; Calls the calls the action makes (a dry run's
	// are the ones it would make).
	Checks []Call `json:"checks,omitempty"`
	Calls  []Call `json:"calls,omitempty"`
	// Refusal says which guard rail refused the action ("" when none did).
	Refusal string `json:"refusal,omitempty"`
	// UserID and Status are the resolved user and its status before the action (dry run).
	UserID string `json:"userId,omitempty"`
	Status string `json:"status,omitempty"`
}

// ErrConfirm is returned for a deactivation without confirmation.
var ErrConfirm = errors.New("deactivate deprovisions the user from every app and cannot be undone by unsuspend: confirm it (idwatch respond deactivate --confirm)")

func (r *Responder) check(req *Request) error {
	spec, ok := actions[req.Action]
	if !ok {
		return fmt.Errorf("unknown action %q: the actions are %s", req.Action, strings.Join(ActionNames(), ", "))
	}
	if strings.TrimSpace(req.User) == "" {
		return errors.New("no user: give the Okta user id or login")
	}
	if req.By == "" {
		return errors.New("no requester: every action records who asked for it")
	}
	if req.Mode == "" {
		req.Mode = ModeManual
	}
	if req.Mode != ModeManual && !spec.fromRules {
		return fmt.Errorf("%s cannot be taken by a rule", req.Action)
	}
	if req.Options == nil {
		req.Options = &Options{OAuthTokens: r.cfg.RevokeOAuthTokens, ForgetDevices: r.cfg.forgetDevices()}
	}
	return nil
}

// newAction builds the stored form of a request.
func (r *Responder) newAction(req Request, status string) store.ResponseAction {
	key := req.Key
	if key == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		key = "once:" + hex.EncodeToString(b[:])
	}
	sum := sha256.Sum256([]byte(key))
	return store.ResponseAction{ID: "ra" + hex.EncodeToString(sum[:9]), Key: key, IntegrationID: req.IntegrationID,
		Action: string(req.Action), Options: req.Options.optionMap(req.Action), User: req.User, RequestedBy: req.By,
		Mode: req.Mode, RuleID: req.RuleID, AlertID: req.AlertID, Reason: req.Reason, Status: status}
}

// Execute runs an action now (a person's request, or a rule in auto mode): it is stored, claimed,
// checked against the guard rails, sent, and read back, each step in the audit trail. With
// DryRun it only lists the calls. A refusal, or Okta refusing, is an Outcome with the action
// refused or failed, not an error; errors are for requests that cannot be recorded at all.
func (r *Responder) Execute(ctx context.Context, req Request) (Outcome, error) {
	if err := r.check(&req); err != nil {
		return Outcome{}, err
	}
	if req.Action == Deactivate && !req.Confirm {
		return Outcome{}, ErrConfirm
	}
	if req.DryRun {
		return r.dryRun(ctx, req)
	}
	a := r.newAction(req, store.ResponseApproved)
	text := "requested"
	if req.Reason != "" {
		text += ": " + req.Reason
	}
	a, created, err := r.st.CreateResponseAction(ctx, a, store.ResponseRecord{By: req.By, Kind: "requested", Text: text})
	if err != nil {
		return Outcome{}, err
	}
	if !created {
		return Outcome{Action: a, Replayed: true}, nil
	}
	return r.run(ctx, a, req.By)
}

// Propose stores an action as pending until an analyst approves (Approve) or rejects it.
func (r *Responder) Propose(ctx context.Context, req Request) (Outcome, error) {
	if err := r.check(&req); err != nil {
		return Outcome{}, err
	}
	if !r.cfg.enabled(req.Action) {
		return Outcome{}, fmt.Errorf("%s is not among respond.actions in the configuration; add it there to allow it", req.Action)
	}
	text := "proposed"
	if req.Reason != "" {
		text += ": " + req.Reason
	}
	a, created, err := r.st.CreateResponseAction(ctx, r.newAction(req, store.ResponsePending),
		store.ResponseRecord{By: req.By, Kind: "proposed", Text: text})
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Action: a, Replayed: !created}, nil
}

// Approve approves a pending action as by and executes it. Deactivations need confirm.
func (r *Responder) Approve(ctx context.Context, id, by string, confirm bool) (Outcome, error) {
	a, err := r.st.GetResponseAction(ctx, id)
	if err != nil {
		return Outcome{}, err
	}
	if by == "" {
		return Outcome{}, errors.New("approve: name who approves")
	}
	if Action(a.Action) == Deactivate && !confirm {
		return Outcome{}, ErrConfirm
	}
	a, err = r.st.TransitionResponseAction(ctx, id, []string{store.ResponsePending}, "", "approved by "+by,
		store.ResponseRecord{By: by, Kind: "approved", Status: store.ResponseApproved})
	if err != nil {
		return Outcome{}, err
	}
	return r.run(ctx, a, by)
}

// Reject rejects a pending action as by, with an optional note.
func (r *Responder) Reject(ctx context.Context, id, by, note string) (store.ResponseAction, error) {
	if by == "" {
		return store.ResponseAction{}, errors.New("reject: name who rejects")
	}
	text := "rejected by " + by
	if note != "" {
		text += ": " + note
	}
	return r.st.TransitionResponseAction(ctx, id, []string{store.ResponsePending}, "", text,
		store.ResponseRecord{By: by, Kind: "rejected", Status: store.ResponseRejected, Text: note})
}

// List returns up to limit actions with status ("" for all), newest first.
func (r *Responder) List(ctx context.Context, status string, limit int) ([]store.ResponseAction, error) {
	return r.st.ListResponseActions(ctx, status, limit)
}

// Trail returns an action with its audit trail.
func (r *Responder) Trail(ctx context.Context, id string) (store.ResponseAction, []store.ResponseRecord, error) {
	a, err := r.st.GetResponseAction(ctx, id)
	if err != nil {
		return a, nil, err
	}
	recs, err := r.st.ResponseRecords(ctx, id, 0, 10_000)
	return a, recs, err
}

// client opens the integration's client and refuses integrations without the response feature.
func (r *Responder) client(ctx context.Context, id int64) (*okta.Client, store.Integration, error) {
	c, in, err := r.okta(ctx, id)
	if err != nil {
		return nil, in, err
	}
	set, err := feature.FromList(in.Features)
	if err != nil {
		return nil, in, err
	}
	if !set.Has(feature.Response) {
		return nil, in, fmt.Errorf("integration %q does not have the response feature on, so idwatch did not request the write scope it needs: idwatch integrations update %s --features %s",
			in.Name, in.Name, set.With(feature.Response).Flag())
	}
	return c, in, nil
}
