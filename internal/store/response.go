package store

import (
	"context"
	"time"
)

// Response action statuses. An action proposed by a rule waits as pending until an analyst
// approves or rejects it; an approved (or directly requested) action is claimed as executing
// before its Okta calls, so it runs once, and ends executed or failed. Refused means a guard rail
// stopped it before any write reached Okta.
const (
	ResponsePending   = "pending"
	ResponseApproved  = "approved"
	ResponseRejected  = "rejected"
	ResponseExecuting = "executing"
	ResponseExecuted  = "executed"
	ResponseFailed    = "failed"
	ResponseRefused   = "refused"
)

// ResponseStatuses lists the statuses in workflow order.
var ResponseStatuses = []string{ResponsePending, ResponseApproved, ResponseRejected, ResponseExecuting, ResponseExecuted, ResponseFailed, ResponseRefused}

// ResponseAction is one response action on one Okta user and its current state.
type ResponseAction struct {
	// ID is set by the caller (stable, derived from the idempotency key).
	ID string `json:"id"`
	// Key is the idempotency key: a second request with the same key gets this action back.
	Key           string `json:"key"`
	IntegrationID int64  `json:"integrationId"`
	// Action is suspend, unsuspend, deactivate, clear_sessions, reset_factors or expire_password.
	Action string `json:"action"`
	// Options are the action's options (e.g. oauth_tokens, forget_devices), as key=value pairs.
	Options map[string]string `json:"options,omitempty"`
	// User is the user as requested (id or login); UserID the Okta id it resolved to.
	User   string `json:"user"`
	UserID string `json:"userId,omitempty"`
	// RequestedBy is who asked: "cli:<os user>", "api:<key name>" or "rule:<rule id>".
	RequestedBy string `json:"requestedBy"`
	// Mode is manual (CLI or API), propose or auto (from a rule).
	Mode string `json:"mode"`
	// RuleID and AlertID say which rule and alert led to it (empty for manual actions).
	RuleID  string `json:"ruleId,omitempty"`
	AlertID string `json:"alertId,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Status  string `json:"status"`
	// Result is the last outcome in words (the verification, the refusal or the error with its
	// fix).
	Result string `json:"result,omitempty"`
	// CreatedAt and UpdatedAt are set by the store.
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ResponseRecord is one entry of the append-only audit trail of response actions.
type ResponseRecord struct {
	// Seq orders the whole trail (set by the store).
	Seq      int64     `json:"seq"`
	ActionID string    `json:"actionId"`
	At       time.Time `json:"at"`
	// By is who made this step happen (the requester, the approving analyst, "idwatch").
	By string `json:"by"`
	// Kind is requested, approved, rejected, refused, call, verified or failed; Status the
	// action's status after the step.
	Kind   string `json:"kind"`
	Status string `json:"status"`
	// Method, Path and Query are the Okta request of a call step; OktaStatus, OktaCode and
	// OktaRequestID Okta's answer (never a credential).
	Method        string `json:"method,omitempty"`
	Path          string `json:"path,omitempty"`
	Query         string `json:"query,omitempty"`
	OktaStatus    int    `json:"oktaStatus,omitempty"`
	OktaCode      string `json:"oktaCode,omitempty"`
	OktaRequestID string `json:"oktaRequestId,omitempty"`
	// Text says what happened in words.
	Text string `json:"text,omitempty"`
}

// Responses keeps response actions and their append-only audit trail.
type Responses interface {
	// CreateResponseAction stores a new action with its first audit record, unless an action
	// with the same Key exists: then it returns that one and created is false.
	CreateResponseAction(ctx context.Context, a ResponseAction, rec ResponseRecord) (got ResponseAction, created bool, err error)
	// GetResponseAction returns one action (ErrNotFound when unknown).
	GetResponseAction(ctx context.Context, id string) (ResponseAction, error)
	// ListResponseActions returns up to limit actions with status ("" for all), newest first.
	ListResponseActions(ctx context.Context, status string, limit int) ([]ResponseAction, error)
	// TransitionResponseAction moves an action from one of the statuses in from to rec.Status,
	// setting its Result (and UserID when not empty) and appending rec, in one transaction; an
	// action in another status is ErrChanged, so two approvers cannot both execute it.
	TransitionResponseAction(ctx context.Context, id string, from []string, userID, result string, rec ResponseRecord) (ResponseAction, error)
	// AppendResponseRecord appends rec to the trail without changing the action's status.
	AppendResponseRecord(ctx context.Context, rec ResponseRecord) error
	// ResponseRecords returns the trail of one action ("" for all), oldest first, after seq.
	ResponseRecords(ctx context.Context, actionID string, afterSeq int64, limit int) ([]ResponseRecord, error)
}
