package console

import (
	"io"
	"net/http"
	"strings"
	"time"
)

func (c *console) routeAlerts(mux *http.ServeMux) {
	mux.Handle("GET /alerts", c.need(RoleViewer, c.alertsPage))
	mux.Handle("GET /alerts/{id}", c.need(RoleViewer, c.alertPage))
	mux.Handle("POST /alerts/{id}/action", c.need(RoleAnalyst, c.alertAction))
}

func (c *console) routeEvents(mux *http.ServeMux) {
	mux.Handle("GET /events", c.need(RoleViewer, c.eventsPage))
}

func (c *console) routeRules(mux *http.ServeMux) {
	mux.Handle("GET /rules", c.need(RoleViewer, c.rulesPage))
	mux.Handle("POST /rules", c.need(RoleAdmin, c.uploadRule))
	mux.Handle("POST /rules/{id}/enable", c.need(RoleAdmin, c.setRule(true)))
	mux.Handle("POST /rules/{id}/disable", c.need(RoleAdmin, c.setRule(false)))
}

func (c *console) routeSinks(mux *http.ServeMux) {
	mux.Handle("GET /sinks", c.need(RoleViewer, c.sinksPage))
	mux.Handle("POST /sinks/{name}/replay", c.need(RoleAdmin, c.replay))
}

func (c *console) routeSettings(mux *http.ServeMux) {
	mux.Handle("GET /settings", c.need(RoleAdmin, c.settingsPage))
	mux.Handle("POST /settings/keys", c.need(RoleAdmin, c.createKey))
	mux.Handle("POST /settings/keys/{name}/revoke", c.need(RoleAdmin, c.revokeKey))
}

// alertsView is the alerts page: the filters as given and the page of results.
type alertsView struct {
	Q     AlertQuery
	Since string
	Page  AlertPage
}

func (c *console) alertsPage(w http.ResponseWriter, r *http.Request, p Principal) {
	qv := r.URL.Query()
	q := AlertQuery{Severity: qv.Get("severity"), Status: qv.Get("status"), Rule: qv.Get("rule"),
		Integration: qv.Get("integration"), Identity: qv.Get("identity"), Limit: 200}
	v := alertsView{Q: q, Since: qv.Get("since")}
	var ferr *Error
	if t, err := parseWhen(v.Since, c.o.Now()); err != nil {
		ferr = &Error{Message: "The time filter could not be read", Field: "since", Fix: "Use a duration back from now (24h, 7d) or a date (2026-11-01)."}
	} else {
		q.Since = t
	}
	page, err := c.b.Alerts(r.Context(), q)
	if err != nil {
		c.backendError(w, r, p, "Listing alerts", err)
		return
	}
	v.Page = page
	c.render(w, r, http.StatusOK, "alerts", "", view{Title: "Alerts", Nav: "alerts", P: p, Data: v, Err: ferr})
}

func (c *console) alertPage(w http.ResponseWriter, r *http.Request, p Principal) {
	a, err := c.b.Alert(r.Context(), r.PathValue("id"))
	if err != nil {
		c.backendError(w, r, p, "Alert", err)
		return
	}
	c.render(w, r, http.StatusOK, "alert", "", view{Title: a.Title, Nav: "alerts", P: p, Data: alertView{AlertDetail: a, Actions: responseActions}, Flash: flash(r.URL.Query())})
}

func (c *console) alertAction(w http.ResponseWriter, r *http.Request, p Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	id := r.PathValue("id")
	a := AlertAction{Kind: r.PostFormValue("kind"), Note: strings.TrimSpace(r.PostFormValue("note"))}
	var ferr *Error
	switch a.Kind {
	case ActionAck, ActionResolve:
	case ActionNote:
		if a.Note == "" {
			ferr = &Error{Message: "The note is empty", Field: "note", Fix: "Write the note, then add it."}
		}
	case ActionSuppress:
		d, err := time.ParseDuration(r.PostFormValue("for"))
		if err != nil || d <= 0 || d > 90*24*time.Hour {
			ferr = &Error{Message: "Choose how long to suppress", Field: "for", Fix: "Pick one of the durations offered."}
		} else if a.Note == "" {
			ferr = &Error{Message: "Give a reason for suppressing", Field: "note", Fix: "Say why this alert is expected (it is kept in the alert's history)."}
		} else {
			a.Until = c.o.Now().Add(d)
		}
	default:
		ferr = &Error{Message: "Unknown action", Fix: "Use the buttons on the alert page."}
	}
	if ferr == nil {
		if err := c.b.AlertAction(r.Context(), p, id, a); err != nil {
			ferr = c.userError("Updating the alert", err)
		}
	}
	if ferr != nil {
		d, err := c.b.Alert(r.Context(), id)
		if err != nil {
			c.backendError(w, r, p, "Alert", err)
			return
		}
		c.render(w, r, http.StatusOK, "alert", "", view{Title: d.Title, Nav: "alerts", P: p, Data: alertView{AlertDetail: d, Actions: responseActions}, Err: ferr})
		return
	}
	c.back(w, r, "/alerts/"+pathEsc(id), a.Kind)
}

// eventsView is the events page: the filters as typed and the results.
type eventsView struct {
	Form   map[string]string
	Result EventResult
	Ran    bool
	More   string // the query string of the next page
}

var eventFields = []string{"since", "until", "integration", "type", "actor", "target", "ip", "outcome", "q", "order"}

func (c *console) eventsPage(w http.ResponseWriter, r *http.Request, p Principal) {
	qv := r.URL.Query()
	v := eventsView{Form: map[string]string{}}
	for _, f := range eventFields {
		v.Form[f] = strings.TrimSpace(qv.Get(f))
	}
	if v.Form["since"] == "" {
		v.Form["since"] = "24h"
	}
	now := c.o.Now()
	q := EventQuery{Integration: v.Form["integration"], Type: v.Form["type"], Actor: v.Form["actor"], Target: v.Form["target"],
		IP: v.Form["ip"], Outcome: v.Form["outcome"], Text: v.Form["q"], Cursor: qv.Get("cursor"), Limit: 50,
		OldestFirst: v.Form["order"] == "oldest"}
	var ferr *Error
	var err error
	if q.Since, err = parseWhen(v.Form["since"], now); err != nil {
		ferr = &Error{Message: "'From' could not be read", Field: "since", Fix: "Use a duration back from now (24h, 7d), a date or an RFC 3339 time."}
	}
	if q.Until, err = parseWhen(v.Form["until"], now); err != nil {
		ferr = &Error{Message: "'To' could not be read", Field: "until", Fix: "Leave it empty for now, or use a duration, a date or an RFC 3339 time."}
	}
	if q.Until.IsZero() {
		q.Until = now
	}
	if ferr == nil {
		res, err := c.b.SearchEvents(r.Context(), q)
		if err != nil {
			ferr = c.userError("Searching events", err)
		} else {
			v.Result, v.Ran = res, true
			if res.NextCursor != "" {
				// The next page continues the same query: a relative time ("24h") is pinned to
				// what it meant for this page, or the cursor would no longer fit.
				next := r.URL.Query()
				next.Set("cursor", res.NextCursor)
				next.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
				next.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
				v.More = next.Encode()
			}
		}
	}
	c.render(w, r, http.StatusOK, "events", "", view{Title: "Events", Nav: "events", P: p, Data: v, Err: ferr})
}

// rulesView is the rules page, with the last upload's outcome when there was one.
type rulesView struct {
	Rules  []RuleRow
	Upload *RuleUpload
	Source []string
	Name   string
}

func (c *console) rulesPage(w http.ResponseWriter, r *http.Request, p Principal) {
	c.showRules(w, r, p, http.StatusOK, rulesView{}, nil)
}

func (c *console) showRules(w http.ResponseWriter, r *http.Request, p Principal, status int, v rulesView, ferr *Error) {
	rules, err := c.b.Rules(r.Context())
	if err != nil {
		c.backendError(w, r, p, "Listing rules", err)
		return
	}
	v.Rules = rules
	c.render(w, r, status, "rules", "", view{Title: "Rules", Nav: "rules", P: p, Data: v, Err: ferr, Flash: flash(r.URL.Query())})
}

func (c *console) uploadRule(w http.ResponseWriter, r *http.Request, p Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseMultipartForm(maxFormBody); err != nil && err != http.ErrNotMultipart {
		c.showRules(w, r, p, http.StatusOK, rulesView{}, &Error{Message: "The upload could not be read", Fix: "Keep rule files under 1 MiB."})
		return
	}
	name, body := "pasted.yml", []byte(r.FormValue("rule"))
	if f, h, err := r.FormFile("rule_file"); err == nil {
		b, rerr := io.ReadAll(io.LimitReader(f, maxFormBody))
		f.Close()
		if rerr == nil && len(strings.TrimSpace(string(b))) > 0 {
			name, body = h.Filename, b
		}
	}
	if strings.TrimSpace(string(body)) == "" {
		c.showRules(w, r, p, http.StatusOK, rulesView{}, &Error{Message: "No rule given", Field: "rule", Fix: "Choose a Sigma rule file (.yml) or paste one."})
		return
	}
	tests := []byte(r.FormValue("tests"))
	if f, _, err := r.FormFile("tests_file"); err == nil {
		b, rerr := io.ReadAll(io.LimitReader(f, maxFormBody))
		f.Close()
		if rerr == nil && len(strings.TrimSpace(string(b))) > 0 {
			tests = b
		}
	}
	up, err := c.b.UploadRule(r.Context(), p, name, body, tests)
	if err != nil {
		c.showRules(w, r, p, http.StatusOK, rulesView{Source: strings.Split(string(body), "\n"), Name: name}, c.userError("Uploading the rule", err))
		return
	}
	status := http.StatusOK
	if !up.Stored {
		status = http.StatusOK
	}
	c.showRules(w, r, p, status, rulesView{Upload: &up, Source: strings.Split(strings.TrimRight(string(body), "\n"), "\n"), Name: name}, nil)
}

func (c *console) setRule(on bool) handler {
	return func(w http.ResponseWriter, r *http.Request, p Principal) {
		if err := c.b.SetRuleEnabled(r.Context(), p, r.PathValue("id"), on); err != nil {
			c.backendError(w, r, p, "Changing the rule", err)
			return
		}
		done := "rule-off"
		if on {
			done = "rule-on"
		}
		c.back(w, r, "/rules", done)
	}
}

// sinkView is one sink with its first dead letters.
type sinkView struct {
	SinkRow
	Letters []DeadLetter
}

func (c *console) sinksPage(w http.ResponseWriter, r *http.Request, p Principal) {
	sinks, err := c.b.Sinks(r.Context())
	if err != nil {
		c.backendError(w, r, p, "Listing sinks", err)
		return
	}
	out := make([]sinkView, len(sinks))
	for i, s := range sinks {
		out[i].SinkRow = s
		if s.DeadLetters > 0 {
			if out[i].Letters, err = c.b.DeadLetters(r.Context(), s.Name, 20); err != nil {
				c.backendError(w, r, p, "Listing dead letters", err)
				return
			}
		}
	}
	c.render(w, r, http.StatusOK, "sinks", "", view{Title: "Sinks", Nav: "sinks", P: p, Data: out, Flash: flash(r.URL.Query())})
}

func (c *console) replay(w http.ResponseWriter, r *http.Request, p Principal) {
	if _, err := c.b.ReplayDeadLetters(r.Context(), p, r.PathValue("name")); err != nil {
		c.backendError(w, r, p, "Replaying dead letters", err)
		return
	}
	c.back(w, r, "/sinks", "replayed")
}

// settingsView is the settings page; NewKey is set once, right after a key is created.
type settingsView struct {
	Keys    []APIKeyRow
	NewKey  string
	NewName string
}

func (c *console) settingsPage(w http.ResponseWriter, r *http.Request, p Principal) {
	c.showSettings(w, r, p, http.StatusOK, settingsView{}, nil)
}

func (c *console) showSettings(w http.ResponseWriter, r *http.Request, p Principal, status int, v settingsView, ferr *Error) {
	keys, err := c.b.APIKeys(r.Context())
	if err != nil {
		c.backendError(w, r, p, "Listing API keys", err)
		return
	}
	v.Keys = keys
	c.render(w, r, status, "settings", "", view{Title: "Settings", Nav: "settings", P: p, Data: v, Err: ferr, Flash: flash(r.URL.Query())})
}

func (c *console) createKey(w http.ResponseWriter, r *http.Request, p Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	name := strings.TrimSpace(r.PostFormValue("name"))
	role := Role(r.PostFormValue("role"))
	var ferr *Error
	switch {
	case name == "" || len(name) > 64:
		ferr = &Error{Message: "Name the key (1 to 64 characters)", Field: "name", Fix: "Name it after who or what uses it, e.g. soc-dashboard."}
	case !role.Valid():
		ferr = &Error{Message: "Choose a role", Field: "role", Fix: "viewer reads, analyst triages, admin changes settings."}
	}
	if ferr != nil {
		c.showSettings(w, r, p, http.StatusOK, settingsView{}, ferr)
		return
	}
	key, row, err := c.b.CreateAPIKey(r.Context(), p, name, role)
	if err != nil {
		c.showSettings(w, r, p, http.StatusOK, settingsView{}, c.userError("Creating the key", err))
		return
	}
	// Shown in this response only (no redirect, no-store), never again.
	c.showSettings(w, r, p, http.StatusOK, settingsView{NewKey: key, NewName: row.Name}, nil)
}

func (c *console) revokeKey(w http.ResponseWriter, r *http.Request, p Principal) {
	name := r.PathValue("name")
	if name == p.Name {
		// Revoking the key this session stands on could lock the last admin out.
		c.showSettings(w, r, p, http.StatusOK, settingsView{}, &Error{Message: "You are signed in with this key", Field: "name",
			Fix: "Sign in with another admin key to revoke it, or use 'idwatch apikeys revoke " + name + "'."})
		return
	}
	if err := c.b.RevokeAPIKey(r.Context(), p, name); err != nil {
		c.backendError(w, r, p, "Revoking the key", err)
		return
	}
	c.sessions.deleteKey(name)
	c.back(w, r, "/settings", "revoked")
}
