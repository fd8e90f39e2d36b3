package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// suppressionRoutes manage alert-pattern suppressions: one rule's alerts about one entity stop
// joining incidents (they are still stored and delivered).
func (s *Server) suppressionRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/suppressions", Role: store.RoleViewer, OperationID: "listSuppressions", Handler: s.listSuppressions},
		{Method: "POST", Pattern: "/api/v1/incidents/{id}/suppressions", Role: store.RoleAnalyst, OperationID: "suppressIncidentPattern", Handler: s.suppressPattern},
		{Method: "DELETE", Pattern: "/api/v1/suppressions/{id}", Role: store.RoleAnalyst, OperationID: "removeSuppression", Handler: s.removeSuppression},
	}
}

// SuppressionInput is the body of POST /api/v1/incidents/{id}/suppressions.
type SuppressionInput struct {
	// RuleID is a rule that raised an alert in the incident.
	RuleID string `json:"ruleId"`
	// Entity is kind:value; the incident's primary entity when empty.
	Entity string `json:"entity,omitempty"`
	Reason string `json:"reason"`
	// Until ends the suppression; none when zero.
	Until time.Time `json:"until,omitzero"`
}

// NewSuppression checks a suppression made from incident in (the rule must be one of the
// incident's, the entity kind:value) and returns it ready to store.
func NewSuppression(in store.Incident, body SuppressionInput, by string, now time.Time) (store.Suppression, error) {
	var g struct {
		Scope string   `json:"scope"`
		Rules []string `json:"rules"`
	}
	if err := json.Unmarshal(in.Detail, &g); err != nil {
		return store.Suppression{}, fmt.Errorf("incident %s: stored grouping does not decode: %w", in.ID, err)
	}
	rule := strings.TrimSpace(body.RuleID)
	if rule == "" || len(g.Rules) > 0 && !slices.ContainsFunc(g.Rules, func(r string) bool { return strings.EqualFold(r, rule) }) {
		return store.Suppression{}, Fail(http.StatusBadRequest, CodeInvalidField, fmt.Sprintf("rule %q raised no alert in incident %s", rule, in.ID),
			"use one of the incident's rules: "+strings.Join(g.Rules, ", "), "ruleId")
	}
	reason := strings.TrimSpace(body.Reason)
	if reason == "" {
		return store.Suppression{}, Fail(http.StatusBadRequest, CodeInvalidField, "a suppression needs a reason",
			"say why the pattern is benign; it is kept in the record", "reason")
	}
	ent := strings.ToLower(strings.TrimSpace(body.Entity))
	if ent == "" {
		ent = in.Entity
	}
	if k, v, ok := strings.Cut(ent, ":"); !ok || k == "" || v == "" {
		return store.Suppression{}, Fail(http.StatusBadRequest, CodeInvalidField, fmt.Sprintf("entity %q is not kind:value", body.Entity),
			"write it like user:alice@example.com or ip:198.51.100.7, or leave it out for the incident's entity", "entity")
	}
	if !body.Until.IsZero() && !body.Until.After(now) {
		return store.Suppression{}, Fail(http.StatusBadRequest, CodeInvalidField, "until is in the past",
			"give a future time, or leave it out for a suppression without an end", "until")
	}
	return store.Suppression{IncidentID: in.ID, RuleID: rule, Entity: ent, Scope: g.Scope, Reason: reason, By: by, ExpiresAt: body.Until}, nil
}

// suppressionList is the body of GET /api/v1/suppressions.
type suppressionList struct {
	Suppressions []store.Suppression `json:"suppressions"`
}

func (s *Server) listSuppressions(w http.ResponseWriter, r *http.Request) error {
	sups, err := s.st.ListSuppressions(r.Context())
	if err != nil {
		return err
	}
	if sups == nil {
		sups = []store.Suppression{}
	}
	WriteJSON(w, http.StatusOK, suppressionList{Suppressions: sups})
	return nil
}

func (s *Server) suppressPattern(w http.ResponseWriter, r *http.Request) error {
	var body SuppressionInput
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	in, err := s.st.GetIncident(r.Context(), r.PathValue("id"))
	if err != nil {
		return incidentErr(err)
	}
	p, _ := PrincipalFrom(r.Context())
	sup, err := NewSuppression(in, body, p.Name, s.now())
	if err != nil {
		return err
	}
	if sup, err = s.st.AddSuppression(r.Context(), sup); err != nil {
		return err
	}
	end := "no end"
	if !sup.ExpiresAt.IsZero() {
		end = "until " + sup.ExpiresAt.UTC().Format(time.RFC3339)
	}
	note := fmt.Sprintf("suppressed %s alerts about %s (%s): %s", sup.RuleID, sup.Entity, end, sup.Reason)
	if _, err := s.st.UpdateIncident(r.Context(), in.ID, store.IncidentUpdate{By: p.Name, Note: note}); err != nil {
		return incidentErr(err)
	}
	WriteJSON(w, http.StatusCreated, sup)
	return nil
}

func (s *Server) removeSuppression(w http.ResponseWriter, r *http.Request) error {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return Fail(http.StatusBadRequest, CodeInvalidField, fmt.Sprintf("suppression id %q is not a number", raw), "GET /api/v1/suppressions lists them", "id")
	}
	if err := s.st.RemoveSuppression(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Fail(http.StatusNotFound, CodeNotFound, fmt.Sprintf("no suppression %d", id), "GET /api/v1/suppressions lists them", "id")
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
