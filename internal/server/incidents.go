package server

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/idwatch/idwatch/internal/store"
)

// incidentRoutes are the incident triage routes: list by risk, one incident's timeline and
// history, and its workflow (status, assignee, notes), recorded under the API key's name.
func (s *Server) incidentRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/incidents", Role: store.RoleViewer, OperationID: "listIncidents", Handler: s.listIncidents},
		{Method: "GET", Pattern: "/api/v1/incidents/{id}", Role: store.RoleViewer, OperationID: "getIncident", Handler: s.getIncident},
		{Method: "PATCH", Pattern: "/api/v1/incidents/{id}", Role: store.RoleAnalyst, OperationID: "updateIncident", Handler: s.updateIncident},
	}
}

// incidentList is the body of GET /api/v1/incidents.
type incidentList struct {
	Incidents []store.Incident `json:"incidents"`
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" && !slices.Contains(store.IncidentStatuses, status) {
		return Fail(http.StatusBadRequest, CodeInvalidField, "status "+strconv.Quote(status)+" is not an incident status",
			"use one of "+strings.Join(store.IncidentStatuses, ", "), "status")
	}
	limit := 100
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return Fail(http.StatusBadRequest, CodeInvalidField, "limit "+strconv.Quote(l)+" is not a number from 1 to 1000", "pass e.g. limit=100", "limit")
		}
		limit = n
	}
	incs, err := s.st.ListIncidents(r.Context(), status, limit)
	if err != nil {
		return err
	}
	if incs == nil {
		incs = []store.Incident{}
	}
	WriteJSON(w, http.StatusOK, incidentList{Incidents: incs})
	return nil
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) error {
	in, err := s.st.GetIncident(r.Context(), r.PathValue("id"))
	if err != nil {
		return incidentErr(err)
	}
	WriteJSON(w, http.StatusOK, in)
	return nil
}

// incidentPatch is the body of PATCH /api/v1/incidents/{id}; absent fields stay as they are.
type incidentPatch struct {
	Status   string  `json:"status,omitempty"`
	Assignee *string `json:"assignee,omitempty"`
	Note     string  `json:"note,omitempty"`
}

func (s *Server) updateIncident(w http.ResponseWriter, r *http.Request) error {
	var body incidentPatch
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	if body.Status == "" && body.Assignee == nil && strings.TrimSpace(body.Note) == "" {
		return Fail(http.StatusBadRequest, CodeBadRequest, "nothing to update", "give status, assignee or note", "")
	}
	if body.Status != "" && !slices.Contains(store.IncidentStatuses, body.Status) {
		return Fail(http.StatusBadRequest, CodeInvalidField, "status "+strconv.Quote(body.Status)+" is not an incident status",
			"use one of "+strings.Join(store.IncidentStatuses, ", "), "status")
	}
	p, _ := PrincipalFrom(r.Context())
	in, err := s.st.UpdateIncident(r.Context(), r.PathValue("id"), store.IncidentUpdate{By: p.Name, Status: body.Status,
		Assignee: body.Assignee, Note: body.Note})
	if err != nil {
		return incidentErr(err)
	}
	WriteJSON(w, http.StatusOK, in)
	return nil
}

// incidentErr turns the store's not-found and invalid answers into request errors.
func incidentErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Fail(http.StatusNotFound, CodeNotFound, "no such incident", "GET /api/v1/incidents lists them", "id")
	case errors.Is(err, store.ErrInvalid):
		return Fail(http.StatusBadRequest, CodeBadRequest, "the update was refused", "check status, assignee and note", "")
	}
	return err
}
