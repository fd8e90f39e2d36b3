package webui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/incident"
	"github.com/idwatch/idwatch/internal/server"
	"github.com/idwatch/idwatch/internal/store"
)

// The API routes the console's incident pages run through.
const (
	routeIncidents   = "/api/v1/incidents"
	routeIncident    = "/api/v1/incidents/{id}"
	routeSuppress    = "/api/v1/incidents/{id}/suppressions"
	timelineAlerts   = 100 // alerts read in full for one incident's timeline
	timelineEvidence = 3   // evidence events shown per alert
)

// grouping reads an incident's grouping detail; a detail that does not decode gives the
// stored fields only.
func grouping(in store.Incident) incident.Incident {
	var g incident.Incident
	_ = json.Unmarshal(in.Detail, &g)
	return g
}

func incidentRow(in store.Incident, g incident.Incident) console.IncidentRow {
	return console.IncidentRow{ID: in.ID, Entity: in.Entity, Status: in.Status, Assignee: in.Assignee, Risk: in.Risk, Severity: in.Severity,
		Stage: g.Stage, Alerts: len(in.Alerts), First: in.FirstAlert, Last: in.LastAlert, Rules: g.Rules}
}

// Incidents implements console.Backend.
func (b *Backend) Incidents(ctx context.Context, q console.IncidentQuery) ([]console.IncidentRow, error) {
	v := url.Values{"limit": {strconv.Itoa(min(max(q.Limit, 1), 1000))}}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	var out struct {
		Incidents []store.Incident `json:"incidents"`
	}
	if _, err := b.o.Server.InvokeQuery(ctx, system, http.MethodGet, routeIncidents, nil, v, nil, &out); err != nil {
		return nil, userErr(err)
	}
	rows := make([]console.IncidentRow, 0, len(out.Incidents))
	for _, in := range out.Incidents {
		if q.Assignee != "" && !strings.EqualFold(in.Assignee, q.Assignee) {
			continue
		}
		rows = append(rows, incidentRow(in, grouping(in)))
	}
	return rows, nil
}

// Incident implements console.Backend: the incident, and each of its alerts with what it added
// to the risk and its first evidence events.
func (b *Backend) Incident(ctx context.Context, id string) (console.IncidentDetail, error) {
	var in store.Incident
	if _, err := b.o.Server.Invoke(ctx, system, http.MethodGet, routeIncident, map[string]string{"id": id}, nil, &in); err != nil {
		return console.IncidentDetail{}, userErr(err)
	}
	g := grouping(in)
	d := console.IncidentDetail{IncidentRow: incidentRow(in, g), Merged: g.Merged}
	for _, e := range g.Entities {
		d.Entities = append(d.Entities, string(e))
	}
	if len(d.Entities) == 0 {
		d.Entities = []string{in.Entity}
	}
	byAlert := map[string]incident.Contribution{}
	for _, c := range g.Contributions {
		byAlert[c.AlertID] = c
		if c.Reached != "" {
			d.Stages = append(d.Stages, c.Reached)
		}
	}
	for i, aid := range in.Alerts {
		c := byAlert[aid]
		t := console.TimelineEntry{AlertID: aid, RuleID: c.RuleID, Points: c.Points, Rule: c.Rule, Entities: c.Entities, Stage: c.Stage, Reached: c.Reached}
		if i < timelineAlerts {
			var a server.AlertDetailView
			_, err := b.o.Server.InvokeQuery(ctx, system, http.MethodGet, routeAlert, map[string]string{"id": aid},
				url.Values{"evidence": {strconv.Itoa(timelineEvidence)}}, nil, &a)
			var re *server.RequestError
			switch {
			case errors.As(err, &re) && re.Status == http.StatusNotFound:
				t.Title, t.Status = "(alert no longer stored: retention)", "gone"
			case err != nil:
				return console.IncidentDetail{}, userErr(err)
			default:
				t.Time, t.Severity, t.Title, t.RuleID, t.Status, t.Techniques = a.Time, a.Severity, a.RuleTitle, a.RuleID, a.Status, a.Techniques
				if t.Title == "" {
					t.Title = a.RuleID
				}
				t.EvidenceTotal = a.EvidenceTotal
				for _, ev := range a.Evidence[:min(len(a.Evidence), timelineEvidence)] {
					t.Evidence = append(t.Evidence, evidence(ev.UUID, ev.EventType, ev.Raw, ev.OCSF))
				}
			}
		} else {
			t.Title = fmt.Sprintf("alert %s (open it for details)", aid)
		}
		d.Timeline = append(d.Timeline, t)
	}
	for _, h := range in.History {
		d.History = append(d.History, console.Note{At: h.At, By: h.By, Text: h.Text})
	}
	return d, nil
}

// UpdateIncident implements console.Backend, as the signed-in key.
func (b *Backend) UpdateIncident(ctx context.Context, by console.Principal, id string, ch console.IncidentChange) error {
	p, err := b.act(ctx, by)
	if err != nil {
		return err
	}
	body := map[string]any{}
	if ch.Status != "" {
		body["status"] = ch.Status
	}
	if ch.Assignee != nil {
		body["assignee"] = *ch.Assignee
	}
	if ch.Note != "" {
		body["note"] = ch.Note
	}
	if _, err := b.o.Server.Invoke(ctx, p, http.MethodPatch, routeIncident, map[string]string{"id": id}, body, nil); err != nil {
		return userErr(err)
	}
	return nil
}

// SuppressPattern implements console.Backend, as the signed-in key.
func (b *Backend) SuppressPattern(ctx context.Context, by console.Principal, incidentID string, s console.PatternSuppression) error {
	p, err := b.act(ctx, by)
	if err != nil {
		return err
	}
	in := server.SuppressionInput{RuleID: s.RuleID, Entity: s.Entity, Reason: s.Reason, Until: s.Until}
	if _, err := b.o.Server.Invoke(ctx, p, http.MethodPost, routeSuppress, map[string]string{"id": incidentID}, in, nil); err != nil {
		return userErr(err)
	}
	return nil
}
