package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/search"
	"github.com/idwatch/idwatch/internal/store"
)

// alertRoutes are alert triage: the list with filters and counts, one alert with its evidence
// and ATT&CK, and its workflow (acknowledge, resolve, suppress, notes), recorded under the API
// key's name.
func (s *Server) alertRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/alerts", Role: store.RoleViewer, OperationID: "listAlerts", Handler: s.listAlerts},
		{Method: "GET", Pattern: "/api/v1/alerts/{id}", Role: store.RoleViewer, OperationID: "getAlert", Handler: s.getAlert},
		{Method: "POST", Pattern: "/api/v1/alerts/{id}/ack", Role: store.RoleAnalyst, OperationID: "ackAlert", Handler: s.alertStatus(store.AlertAcknowledged)},
		{Method: "POST", Pattern: "/api/v1/alerts/{id}/resolve", Role: store.RoleAnalyst, OperationID: "resolveAlert", Handler: s.alertStatus(store.AlertResolved)},
		{Method: "POST", Pattern: "/api/v1/alerts/{id}/suppress", Role: store.RoleAnalyst, OperationID: "suppressAlert", Handler: s.alertStatus(store.AlertSuppressed)},
		{Method: "POST", Pattern: "/api/v1/alerts/{id}/reopen", Role: store.RoleAnalyst, OperationID: "reopenAlert", Handler: s.alertStatus(store.AlertNew)},
		{Method: "POST", Pattern: "/api/v1/alerts/{id}/notes", Role: store.RoleAnalyst, OperationID: "addAlertNote", Handler: s.alertStatus("")},
	}
}

// AlertView is an alert as the API lists it: its triage state, its Detection Finding (body),
// and what a list shows of it.
type AlertView struct {
	store.TriagedAlert
	IntegrationName string   `json:"integrationName"`
	RuleTitle       string   `json:"ruleTitle"`
	Entities        []string `json:"entities"`
	Techniques      []string `json:"techniques"`
}

// AlertList is the body of GET /api/v1/alerts.
type AlertList struct {
	Alerts []AlertView `json:"alerts"`
	// Next continues the list with the same filters; absent on the last page.
	Next string `json:"next,omitempty"`
	// BySeverity counts every alert the filters match (not only this page), when asked with
	// counts=true.
	BySeverity map[string]int `json:"bySeverity,omitempty"`
}

// AlertDetailView is the body of GET /api/v1/alerts/{id}: the alert, its history, ATT&CK, and
// its evidence events raw and as OCSF.
type AlertDetailView struct {
	search.AlertDetail
	IntegrationName string   `json:"integrationName"`
	RuleTitle       string   `json:"ruleTitle"`
	Entities        []string `json:"entities"`
	Techniques      []string `json:"techniques"`
}

// AlertChangeInput is the body of the alert workflow routes; every field is optional except a
// suppression's reason and a note's note.
type AlertChangeInput struct {
	Note   string    `json:"note,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Until  time.Time `json:"until,omitzero"`
}

func alertView(a store.TriagedAlert, names map[int64]string) AlertView {
	sum := search.Summarize(a.Body)
	return AlertView{TriagedAlert: a, IntegrationName: names[a.IntegrationID], RuleTitle: sum.Title,
		Entities: nonNil(sum.Entities), Techniques: nonNil(sum.Techniques)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(r, "since", "until", "severity", "rule", "integration", "identity", "status", "cursor", "limit", "counts")
	if err != nil {
		return err
	}
	q := store.AlertQuery{Since: p.time("since"), Until: p.time("until"), Severities: p.list("severity"), Rules: p.list("rule"),
		Statuses: p.list("status"), Identity: p.str("identity"), Cursor: p.str("cursor")}
	q.Limit = p.intIn("limit", store.DefaultSearchLimit, 1, store.MaxSearchLimit)
	counts := p.oneOf("counts", "false", "true", "false") == "true"
	if p.err != nil {
		return p.err
	}
	if q.Integrations, err = s.integrationIDs(r.Context(), p.list("integration")); err != nil {
		return err
	}
	page, err := s.st.SearchAlerts(r.Context(), q)
	if err != nil {
		return invalidQuery(err)
	}
	names, err := s.integrationNames(r.Context())
	if err != nil {
		return err
	}
	out := AlertList{Alerts: make([]AlertView, 0, len(page.Alerts)), Next: page.Next}
	for _, a := range page.Alerts {
		out.Alerts = append(out.Alerts, alertView(a, names))
	}
	if counts {
		if out.BySeverity, err = s.st.CountAlertsBySeverity(r.Context(), q); err != nil {
			return invalidQuery(err)
		}
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) error {
	p, err := readParams(r, "evidence")
	if err != nil {
		return err
	}
	evidence := p.intIn("evidence", search.MaxEvidence, 0, search.MaxEvidence)
	if p.err != nil {
		return p.err
	}
	d, err := s.search.AlertDetail(r.Context(), r.PathValue("id"), evidence)
	if err != nil {
		return alertErr(err)
	}
	names, err := s.integrationNames(r.Context())
	if err != nil {
		return err
	}
	v := alertView(d.TriagedAlert, names)
	WriteJSON(w, http.StatusOK, AlertDetailView{AlertDetail: d, IntegrationName: v.IntegrationName, RuleTitle: v.RuleTitle,
		Entities: v.Entities, Techniques: v.Techniques})
	return nil
}

// alertStatus handles a workflow route: to is the new status, "" for a note alone.
func (s *Server) alertStatus(to string) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in AlertChangeInput
		if r.ContentLength != 0 {
			if err := DecodeJSON(r, &in); err != nil {
				return err
			}
		}
		in.Note, in.Reason = strings.TrimSpace(in.Note), strings.TrimSpace(in.Reason)
		switch {
		case to == "" && in.Note == "":
			return Fail(http.StatusBadRequest, CodeInvalidField, "the note is empty", `send {"note": "…"}`, "note")
		case to == store.AlertSuppressed && in.Reason == "":
			return Fail(http.StatusBadRequest, CodeInvalidField, "a suppression needs a reason",
				`send {"reason": "…"} and, to end it, "until" as an RFC 3339 time`, "reason")
		case to != store.AlertSuppressed && (in.Reason != "" || !in.Until.IsZero()):
			return Fail(http.StatusBadRequest, CodeInvalidField, "reason and until apply to a suppression only",
				"send only a note, or use /suppress", "reason")
		case !in.Until.IsZero() && !in.Until.After(s.now()):
			return Fail(http.StatusBadRequest, CodeInvalidField, "until is in the past", "give a future time, or leave it out for a suppression that does not end", "until")
		}
		pr, _ := PrincipalFrom(r.Context())
		out, err := s.st.SetAlertStatus(r.Context(), []string{r.PathValue("id")},
			store.AlertStatusChange{Status: to, By: pr.Name, Note: in.Note, Reason: in.Reason, Until: in.Until})
		if err != nil {
			return alertErr(err)
		}
		names, err := s.integrationNames(r.Context())
		if err != nil {
			return err
		}
		WriteJSON(w, http.StatusOK, alertView(out[0], names))
		return nil
	}
}

// alertErr turns the store's not-found and invalid answers into request errors.
func alertErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Fail(http.StatusNotFound, CodeNotFound, "no such alert", "GET /api/v1/alerts lists them", "id")
	case errors.Is(err, store.ErrInvalid):
		return Fail(http.StatusBadRequest, CodeInvalidField, fmt.Sprint(err), "check note (at most 10,000 bytes), reason (at most 1,000) and until", "")
	}
	return err
}
