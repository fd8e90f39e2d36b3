package console

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Incident statuses, as the API names them.
var incidentStatuses = []string{"new", "in_progress", "resolved", "false_positive"}

// IncidentQuery filters the incident list.
type IncidentQuery struct {
	Status   string
	Assignee string
	Limit    int
}

// IncidentRow is one line of the incident list.
type IncidentRow struct {
	ID       string
	Entity   string // kind:value, e.g. user:kim@acme.com
	Status   string
	Assignee string
	Risk     int
	Severity string
	Stage    string // the furthest ATT&CK tactic reached
	Alerts   int
	First    time.Time
	Last     time.Time
	Rules    []string
}

// TimelineEntry is one alert of an incident in time order, with what it added to the risk and
// its key evidence.
type TimelineEntry struct {
	AlertID  string
	Time     time.Time
	Severity string
	Title    string
	RuleID   string
	Status   string
	// Points is the alert's contribution to the risk: Rule (its severity, first time its rule
	// appears) + Entities (new entities it linked) + Stage (for reaching Reached).
	Points, Rule, Entities, Stage int
	Reached                       string
	Techniques                    []string
	// Evidence are the alert's first events; EvidenceTotal how many it has.
	Evidence      []Evidence
	EvidenceTotal int
}

// IncidentDetail is one incident: its timeline, entities and history.
type IncidentDetail struct {
	IncidentRow
	Entities []string
	Merged   []string
	// Stages are the kill-chain stages in the order the incident reached them.
	Stages   []string
	Timeline []TimelineEntry
	History  []Note
}

// IncidentChange is a workflow change; empty fields are left as they are.
type IncidentChange struct {
	Status   string
	Assignee *string
	Note     string
}

// PatternSuppression stops one rule's alerts about one entity from joining incidents.
type PatternSuppression struct {
	RuleID string
	Entity string
	Reason string
	Until  time.Time // zero: no end
}

func (c *console) routeIncidents(mux *http.ServeMux) {
	mux.Handle("GET /incidents", c.need(RoleViewer, c.incidentsPage))
	mux.Handle("GET /incidents/{id}", c.need(RoleViewer, c.incidentPage))
	mux.Handle("POST /incidents/{id}/update", c.need(RoleAnalyst, c.incidentUpdate))
	mux.Handle("POST /incidents/{id}/suppress", c.need(RoleAnalyst, c.incidentSuppress))
}

// incidentsView is the incident list with its filters.
type incidentsView struct {
	Q        IncidentQuery
	Rows     []IncidentRow
	Statuses []string
}

func (c *console) incidentsPage(w http.ResponseWriter, r *http.Request, p Principal) {
	qv := r.URL.Query()
	q := IncidentQuery{Status: qv.Get("status"), Assignee: strings.TrimSpace(qv.Get("assignee")), Limit: 200}
	var ferr *Error
	if q.Status != "" && !slices.Contains(incidentStatuses, q.Status) {
		ferr = &Error{Message: "Unknown status " + q.Status, Field: "status", Fix: "Pick a status from the list."}
		q.Status = ""
	}
	rows, err := c.b.Incidents(r.Context(), q)
	if err != nil {
		c.backendError(w, r, p, "Listing incidents", err)
		return
	}
	c.render(w, r, http.StatusOK, "incidents", "", view{Title: "Incidents", Nav: "incidents", P: p, Err: ferr,
		Data: incidentsView{Q: q, Rows: rows, Statuses: incidentStatuses}})
}

// incidentView is the incident page.
type incidentView struct {
	IncidentDetail
	Statuses []string
}

func (c *console) incidentPage(w http.ResponseWriter, r *http.Request, p Principal) {
	c.showIncident(w, r, p, r.PathValue("id"), nil)
}

func (c *console) showIncident(w http.ResponseWriter, r *http.Request, p Principal, id string, ferr *Error) {
	d, err := c.b.Incident(r.Context(), id)
	if err != nil {
		c.backendError(w, r, p, "Incident", err)
		return
	}
	c.render(w, r, http.StatusOK, "incident", "", view{Title: "Incident " + d.Entity, Nav: "incidents", P: p, Err: ferr,
		Flash: flash(r.URL.Query()), Data: incidentView{IncidentDetail: d, Statuses: incidentStatuses}})
}

func (c *console) incidentUpdate(w http.ResponseWriter, r *http.Request, p Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	id := r.PathValue("id")
	ch := IncidentChange{Status: r.PostFormValue("status"), Note: strings.TrimSpace(r.PostFormValue("note"))}
	if r.PostForm.Has("assignee") {
		a := strings.TrimSpace(r.PostFormValue("assignee"))
		ch.Assignee = &a
	}
	var ferr *Error
	if ch.Status != "" && !slices.Contains(incidentStatuses, ch.Status) {
		ferr = &Error{Message: "Unknown status " + ch.Status, Field: "inc-status", Fix: "Pick a status from the list."}
	}
	if ferr == nil {
		if err := c.b.UpdateIncident(r.Context(), p, id, ch); err != nil {
			ferr = c.userError("Updating the incident", err)
		}
	}
	if ferr != nil {
		c.showIncident(w, r, p, id, ferr)
		return
	}
	c.back(w, r, "/incidents/"+pathEsc(id), "incident")
}

func (c *console) incidentSuppress(w http.ResponseWriter, r *http.Request, p Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	id := r.PathValue("id")
	s := PatternSuppression{RuleID: r.PostFormValue("rule"), Entity: strings.TrimSpace(r.PostFormValue("entity")),
		Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	var ferr *Error
	switch f := r.PostFormValue("for"); {
	case s.Reason == "":
		ferr = &Error{Message: "Give a reason for suppressing", Field: "sup-reason", Fix: "Say why this pattern is benign; it is kept in the incident's history."}
	case f == "forever":
	default:
		d, err := time.ParseDuration(f)
		if err != nil || d <= 0 || d > 366*24*time.Hour {
			ferr = &Error{Message: "Choose how long to suppress", Field: "sup-for", Fix: "Pick one of the durations offered."}
		} else {
			s.Until = c.o.Now().Add(d)
		}
	}
	if ferr == nil {
		if err := c.b.SuppressPattern(r.Context(), p, id, s); err != nil {
			ferr = c.userError("Suppressing the pattern", err)
		}
	}
	if ferr != nil {
		c.showIncident(w, r, p, id, ferr)
		return
	}
	c.back(w, r, "/incidents/"+pathEsc(id), "suppressed-pattern")
}
