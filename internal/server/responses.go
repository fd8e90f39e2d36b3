package server

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/idwatch/idwatch/internal/respond"
	"github.com/idwatch/idwatch/internal/store"
)

// responseRoutes are response actions in Okta: dry runs, proposals, executions, approvals and
// each action's audit trail.
func (s *Server) responseRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/responses", Role: store.RoleViewer, OperationID: "listResponses", Handler: s.listResponses},
		{Method: "POST", Pattern: "/api/v1/responses", Role: store.RoleAnalyst, OperationID: "requestResponse", Handler: s.requestResponse},
		{Method: "GET", Pattern: "/api/v1/responses/{id}", Role: store.RoleViewer, OperationID: "getResponse", Handler: s.getResponse},
		{Method: "POST", Pattern: "/api/v1/responses/{id}/approve", Role: store.RoleAnalyst, OperationID: "approveResponse", Handler: s.approveResponse},
		{Method: "POST", Pattern: "/api/v1/responses/{id}/reject", Role: store.RoleAnalyst, OperationID: "rejectResponse", Handler: s.rejectResponse},
	}
}

// ResponseInput is the body of POST /api/v1/responses.
type ResponseInput struct {
	Integration string `json:"integration"`
	// Action is suspend, unsuspend, deactivate, clear_sessions, reset_factors or expire_password.
	Action string `json:"action"`
	// User is the Okta user id or login.
	User    string `json:"user"`
	Reason  string `json:"reason,omitempty"`
	AlertID string `json:"alertId,omitempty"`
	// DryRun lists the Okta calls the action would make, changing nothing (analyst).
	DryRun bool `json:"dryRun,omitempty"`
	// Propose stores the action pending an approval (analyst); otherwise it runs now (admin).
	Propose bool `json:"propose,omitempty"`
	// Confirm is required to deactivate.
	Confirm bool `json:"confirm,omitempty"`
	// OAuthTokens and KeepDevices tune clear_sessions; SendEmail deactivate.
	OAuthTokens bool `json:"oauthTokens,omitempty"`
	KeepDevices bool `json:"keepDevices,omitempty"`
	SendEmail   bool `json:"sendEmail,omitempty"`
}

// ResponseTrail is an action with its audit trail.
type ResponseTrail struct {
	Action store.ResponseAction   `json:"action"`
	Trail  []store.ResponseRecord `json:"trail"`
}

// responder returns the responder or a 503 naming the fix.
func (s *Server) responderOr() (*respond.Responder, error) {
	if s.responder == nil {
		return nil, Fail(http.StatusServiceUnavailable, CodeUnavailable, "response actions do not run in this process",
			"run idwatch serve with a respond section in the configuration (docs/identity.md)", "")
	}
	return s.responder, nil
}

func (s *Server) listResponses(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(r, "status", "limit")
	if err != nil {
		return err
	}
	statuses := []string{store.ResponsePending, store.ResponseApproved, store.ResponseRejected, store.ResponseExecuting,
		store.ResponseExecuted, store.ResponseFailed, store.ResponseRefused}
	status := ""
	if v := p.str("status"); v != "" {
		status = p.oneOf("status", "", statuses...)
	}
	limit := p.intIn("limit", 100, 1, 1000)
	if p.err != nil {
		return p.err
	}
	acts, err := s.st.ListResponseActions(r.Context(), status, limit)
	if err != nil {
		return err
	}
	if acts == nil {
		acts = []store.ResponseAction{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"responses": acts})
	return nil
}

func (s *Server) getResponse(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetResponseAction(r.Context(), r.PathValue("id"))
	if err != nil {
		return responseErr(err)
	}
	recs, err := s.st.ResponseRecords(r.Context(), a.ID, 0, 10_000)
	if err != nil {
		return err
	}
	if recs == nil {
		recs = []store.ResponseRecord{}
	}
	WriteJSON(w, http.StatusOK, ResponseTrail{Action: a, Trail: recs})
	return nil
}

func (s *Server) requestResponse(w http.ResponseWriter, r *http.Request) error {
	var in ResponseInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	rp, err := s.responderOr()
	if err != nil {
		return err
	}
	act, ok := respond.ParseAction(in.Action)
	if !ok {
		return Fail(http.StatusBadRequest, CodeInvalidField, fmt.Sprintf("action %q is not a response action", in.Action),
			"use suspend, unsuspend, deactivate, clear_sessions, reset_factors or expire_password", "action")
	}
	if strings.TrimSpace(in.User) == "" {
		return Fail(http.StatusBadRequest, CodeInvalidField, "no user", "give the user's Okta id or login", "user")
	}
	ids, err := s.integrationIDs(r.Context(), []string{in.Integration})
	if err != nil || in.Integration == "" {
		return Fail(http.StatusBadRequest, CodeInvalidField, fmt.Sprintf("no integration named %q", in.Integration), "GET /api/v1/integrations lists them", "integration")
	}
	p, _ := PrincipalFrom(r.Context())
	if !in.DryRun && !in.Propose && !p.Can(store.RoleAdmin) {
		return Fail(http.StatusForbidden, CodeForbidden, "running a response now needs the admin role",
			`propose it instead ("propose": true), for an analyst or admin to approve`, "propose")
	}
	req := respond.Request{IntegrationID: ids[0], Action: act, User: strings.TrimSpace(in.User), Reason: in.Reason, AlertID: in.AlertID,
		By: "api:" + p.Name, Key: r.Header.Get("Idempotency-Key"), DryRun: in.DryRun, Confirm: in.Confirm,
		Options: &respond.Options{OAuthTokens: in.OAuthTokens, ForgetDevices: !in.KeepDevices, SendEmail: in.SendEmail}}
	var out respond.Outcome
	if in.Propose && !in.DryRun {
		out, err = rp.Propose(r.Context(), req)
	} else {
		out, err = rp.Execute(r.Context(), req)
	}
	if err != nil {
		return responseErr(err)
	}
	// A refusal by a guard rail is an outcome, recorded in the audit trail like any other.
	status := http.StatusOK
	if !in.DryRun && !out.Replayed {
		status = http.StatusCreated
	}
	WriteJSON(w, status, out)
	return nil
}

// decision is the body of the approve and reject routes.
type decision struct {
	Confirm bool   `json:"confirm,omitempty"`
	Note    string `json:"note,omitempty"`
}

// decide reads an approve or reject request: its optional body, the responder and who decides.
func (s *Server) decide(r *http.Request) (decision, *respond.Responder, string, error) {
	var d decision
	if r.ContentLength != 0 {
		if err := DecodeJSON(r, &d); err != nil {
			return d, nil, "", err
		}
	}
	rp, err := s.responderOr()
	p, _ := PrincipalFrom(r.Context())
	return d, rp, "api:" + p.Name, err
}

func (s *Server) approveResponse(w http.ResponseWriter, r *http.Request) error {
	d, rp, by, err := s.decide(r)
	if err != nil {
		return err
	}
	out, err := rp.Approve(r.Context(), r.PathValue("id"), by, d.Confirm)
	if err != nil {
		return responseErr(err)
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) rejectResponse(w http.ResponseWriter, r *http.Request) error {
	d, rp, by, err := s.decide(r)
	if err != nil {
		return err
	}
	a, err := rp.Reject(r.Context(), r.PathValue("id"), by, d.Note)
	if err != nil {
		return responseErr(err)
	}
	WriteJSON(w, http.StatusOK, a)
	return nil
}

// responseErr turns the responder's refusals into request errors that name the fix.
func responseErr(err error) error {
	switch {
	case errors.Is(err, respond.ErrConfirm):
		return Fail(http.StatusBadRequest, CodeInvalidField, err.Error(), `send "confirm": true`, "confirm")
	case errors.Is(err, store.ErrNotFound):
		return Fail(http.StatusNotFound, CodeNotFound, "no such response action", "GET /api/v1/responses lists them", "id")
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrChanged):
		return Fail(http.StatusConflict, CodeConflict, err.Error(), "only a pending action can be approved or rejected; GET /api/v1/responses/{id} shows its state", "id")
	case errors.Is(err, store.ErrInvalid):
		return Fail(http.StatusBadRequest, CodeInvalidField, err.Error(), "check the action, the user and the options", "")
	}
	var re *RequestError
	if errors.As(err, &re) {
		return err
	}
	msg := err.Error()
	if slices.ContainsFunc([]string{"respond.actions", "not among", "needs", "protected"}, func(k string) bool { return strings.Contains(msg, k) }) {
		return Fail(http.StatusConflict, CodeConflict, msg, "change the respond section of the configuration, or choose another action", "action")
	}
	return err
}
