package console

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Response actions a person may ask for, in the order the form offers them.
var responseActions = []string{"clear_sessions", "suspend", "reset_factors", "expire_password", "unsuspend", "deactivate"}

// Response statuses, as the API names them.
var responseStatuses = []string{"pending", "approved", "rejected", "executing", "executed", "failed", "refused"}

// ResponseRow is one response action.
type ResponseRow struct {
	ID          string
	Action      string
	User        string
	Integration string
	Status      string
	RequestedBy string
	Mode        string
	Reason      string
	AlertID     string
	Result      string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ResponseStep is one entry of an action's audit trail.
type ResponseStep struct {
	At     time.Time
	By     string
	Kind   string
	Status string
	// Call is the Okta request of a call step ("POST /api/v1/users/…/lifecycle/suspend → 200").
	Call string
	Text string
}

// ResponseDetail is an action with its audit trail.
type ResponseDetail struct {
	ResponseRow
	Trail []ResponseStep
}

// Response modes of a request.
const (
	ResponseDryRun  = "dry-run"
	ResponsePropose = "propose"
	ResponseRun     = "run"
)

// ResponseRequest asks for an action on a user.
type ResponseRequest struct {
	Integration string
	Action      string
	User        string
	Reason      string
	AlertID     string
	Mode        string // ResponseDryRun, ResponsePropose or ResponseRun
	Confirm     bool   // deactivate only
}

// ResponseOutcome is what a request led to.
type ResponseOutcome struct {
	ID      string // "" for a dry run
	Status  string
	Refusal string
	// Calls are the Okta requests made, or that a dry run would make; Checks the guard rails' reads.
	Calls    []string
	Checks   []string
	Replayed bool
}

func (c *console) routeResponses(mux *http.ServeMux) {
	mux.Handle("GET /responses", c.need(RoleViewer, c.responsesPage))
	mux.Handle("GET /responses/{id}", c.need(RoleViewer, c.responsePage))
	mux.Handle("POST /responses/{id}/decide", c.need(RoleAnalyst, c.decideResponse))
	mux.Handle("POST /alerts/{id}/respond", c.need(RoleAnalyst, c.alertRespond))
}

// responsesView is the responses page.
type responsesView struct {
	Status   string
	Statuses []string
	Rows     []ResponseRow
}

func (c *console) responsesPage(w http.ResponseWriter, r *http.Request, p Principal) {
	v := responsesView{Status: r.URL.Query().Get("status"), Statuses: responseStatuses}
	var ferr *Error
	if v.Status != "" && !slices.Contains(responseStatuses, v.Status) {
		ferr, v.Status = &Error{Message: "Unknown status", Field: "r-status", Fix: "Pick a status from the list."}, ""
	}
	rows, err := c.b.Responses(r.Context(), v.Status)
	if err != nil {
		c.backendError(w, r, p, "Listing response actions", err)
		return
	}
	v.Rows = rows
	c.render(w, r, http.StatusOK, "responses", "", view{Title: "Responses", Nav: "responses", P: p, Data: v, Err: ferr})
}

func (c *console) responsePage(w http.ResponseWriter, r *http.Request, p Principal) {
	c.showResponse(w, r, p, r.PathValue("id"), nil)
}

func (c *console) showResponse(w http.ResponseWriter, r *http.Request, p Principal, id string, ferr *Error) {
	d, err := c.b.Response(r.Context(), id)
	if err != nil {
		c.backendError(w, r, p, "Response action", err)
		return
	}
	c.render(w, r, http.StatusOK, "response", "", view{Title: "Response " + d.Action, Nav: "responses", P: p, Data: d, Err: ferr, Flash: flash(r.URL.Query())})
}

func (c *console) decideResponse(w http.ResponseWriter, r *http.Request, p Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	id := r.PathValue("id")
	approve := r.PostFormValue("decision") == "approve"
	if !approve && r.PostFormValue("decision") != "reject" {
		c.showResponse(w, r, p, id, &Error{Message: "Unknown decision", Fix: "Use the Approve or Reject button."})
		return
	}
	if err := c.b.DecideResponse(r.Context(), p, id, approve, r.PostFormValue("confirm") == "yes", strings.TrimSpace(r.PostFormValue("note"))); err != nil {
		c.showResponse(w, r, p, id, c.userError("Deciding", err))
		return
	}
	done := "response-rejected"
	if approve {
		done = "response-approved"
	}
	c.back(w, r, "/responses/"+pathEsc(id), done)
}

// alertRespond asks for a response action on the alert's user: a dry run shows the calls on the
// alert's page; a proposal or a run goes to the action's page.
func (c *console) alertRespond(w http.ResponseWriter, r *http.Request, p Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	id := r.PathValue("id")
	a, err := c.b.Alert(r.Context(), id)
	if err != nil {
		c.backendError(w, r, p, "Alert", err)
		return
	}
	req := ResponseRequest{Integration: a.Integration, Action: r.PostFormValue("action"), User: strings.TrimSpace(r.PostFormValue("user")),
		Reason: strings.TrimSpace(r.PostFormValue("reason")), AlertID: id, Mode: r.PostFormValue("mode"), Confirm: r.PostFormValue("confirm") == "yes"}
	if req.User == "" {
		req.User = alertView{AlertDetail: a}.RespondUser()
	}
	var ferr *Error
	switch {
	case req.User == "":
		ferr = &Error{Message: "This alert names no user to act on", Fix: "Open the alert of the user concerned, or use the API or idwatch respond with --user."}
	case !slices.Contains(responseActions, req.Action):
		ferr = &Error{Message: "Choose an action", Field: "resp-action", Fix: "Pick one of the actions offered."}
	case req.Mode != ResponseDryRun && req.Mode != ResponsePropose && req.Mode != ResponseRun:
		ferr = &Error{Message: "Unknown request", Fix: "Use the Dry run, Propose or Run now button."}
	case req.Mode == ResponseRun && p.Role != RoleAdmin:
		ferr = &Error{Message: "Running an action now needs the admin role", Fix: "Propose it instead; an analyst or admin approves it on the Responses page."}
	case req.Action == "deactivate" && req.Mode != ResponseDryRun && !req.Confirm:
		ferr = &Error{Message: "Deactivation must be confirmed", Field: "resp-confirm", Fix: "Tick the confirmation: it deprovisions the user from every app and unsuspend cannot undo it."}
	}
	var out ResponseOutcome
	if ferr == nil {
		if out, err = c.b.RequestResponse(r.Context(), p, req); err != nil {
			ferr = c.userError("Requesting the response", err)
		}
	}
	if ferr != nil || req.Mode == ResponseDryRun {
		c.render(w, r, http.StatusOK, "alert", "", view{Title: a.Title, Nav: "alerts", P: p, Err: ferr,
			Data: alertView{AlertDetail: a, Actions: responseActions, DryRun: dryRunOf(req, out, ferr)}})
		return
	}
	c.back(w, r, "/responses/"+pathEsc(out.ID), "response-"+req.Mode)
}

// alertView is the alert page: the alert, the actions its user may get, and a dry run's outcome.
type alertView struct {
	AlertDetail
	Actions []string
	DryRun  *DryRunView
}

// RespondUser is the user a response action would act on: the inventory's login, else the
// alert's identity when it is a login or an Okta user id ("" for an address).
func (v alertView) RespondUser() string {
	if v.Card != nil && v.Card.Login != "" {
		return v.Card.Login
	}
	if strings.Contains(v.Identity, "@") || strings.HasPrefix(v.Identity, "00u") {
		return v.Identity
	}
	return ""
}

// DryRunView is a dry run shown on the alert page.
type DryRunView struct {
	Request ResponseRequest
	Outcome ResponseOutcome
}

func dryRunOf(req ResponseRequest, out ResponseOutcome, ferr *Error) *DryRunView {
	if ferr != nil || req.Mode != ResponseDryRun {
		return nil
	}
	return &DryRunView{Request: req, Outcome: out}
}
