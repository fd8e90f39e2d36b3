package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/server"
	"github.com/idwatch/idwatch/internal/store"
)

// The API routes the console's alert and event pages run through.
const (
	routeAlerts     = "/api/v1/alerts"
	routeAlert      = "/api/v1/alerts/{id}"
	routeEvents     = "/api/v1/events"
	routeHistogram  = "/api/v1/events/histogram"
	histogramBucket = 48
)

// apiAlertsEvents is the AlertsEvents service over the API's alert and event routes.
type apiAlertsEvents struct{ b *Backend }

// Alerts implements AlertsEvents.
func (s apiAlertsEvents) Alerts(ctx context.Context, q console.AlertQuery) (console.AlertPage, error) {
	v := url.Values{"counts": {"true"}, "limit": {strconv.Itoa(min(max(q.Limit, 1), store.MaxSearchLimit))}}
	for k, x := range map[string]string{"severity": q.Severity, "status": q.Status, "rule": q.Rule, "integration": q.Integration, "identity": q.Identity} {
		if x != "" {
			v.Set(k, x)
		}
	}
	setTime(v, "since", q.Since)
	setTime(v, "until", q.Until)
	var out server.AlertList
	if _, err := s.b.o.Server.InvokeQuery(ctx, system, http.MethodGet, routeAlerts, nil, v, nil, &out); err != nil {
		return console.AlertPage{}, userErr(err)
	}
	page := console.AlertPage{BySeverity: out.BySeverity}
	for _, n := range out.BySeverity {
		page.Total += n
	}
	for _, a := range out.Alerts {
		page.Alerts = append(page.Alerts, alertRow(a))
	}
	return page, nil
}

func setTime(v url.Values, k string, t time.Time) {
	if !t.IsZero() {
		v.Set(k, t.UTC().Format(time.RFC3339Nano))
	}
}

// alertRow is the list line of an API alert.
func alertRow(a server.AlertView) console.AlertRow {
	r := console.AlertRow{ID: a.ID, Time: a.Time, Severity: a.Severity, Title: a.RuleTitle, RuleID: a.RuleID,
		Integration: a.IntegrationName, Identity: identity(a.GroupKey, a.Entities), Status: a.Status}
	if r.Title == "" {
		r.Title = a.RuleID
	}
	if len(a.Techniques) > 0 {
		r.Technique = a.Techniques[0]
	}
	return r
}

// identity is who or what an alert is about: the address of an alert grouped by address (a
// spray from one source), else its first user, else its first entity.
func identity(groupKey string, entities []string) string {
	if k, v, ok := strings.Cut(groupKey, "="); ok && strings.HasSuffix(k, "ipAddress") && v != "" {
		return v
	}
	for _, e := range entities {
		if u, ok := strings.CutPrefix(e, "user:"); ok {
			return u
		}
	}
	if len(entities) > 0 {
		_, v, _ := strings.Cut(entities[0], ":")
		return v
	}
	return ""
}

// Alert implements AlertsEvents.
func (s apiAlertsEvents) Alert(ctx context.Context, id string) (console.AlertDetail, error) {
	var a server.AlertDetailView
	if _, err := s.b.o.Server.Invoke(ctx, system, http.MethodGet, routeAlert, map[string]string{"id": id}, nil, &a); err != nil {
		return console.AlertDetail{}, userErr(err)
	}
	d := console.AlertDetail{AlertRow: alertRow(server.AlertView{TriagedAlert: a.TriagedAlert, IntegrationName: a.IntegrationName,
		RuleTitle: a.RuleTitle, Entities: a.Entities, Techniques: a.Techniques}), SuppressedTil: a.SuppressedUntil}
	var f struct {
		Info struct {
			Desc string `json:"desc"`
		} `json:"finding_info"`
		Message string `json:"message"`
	}
	if json.Unmarshal(a.Body, &f) == nil {
		d.Description = f.Info.Desc
		if d.Description == "" {
			d.Description = f.Message
		}
	}
	for _, raw := range a.Attacks {
		if t, ok := technique(raw); ok {
			d.Techniques = append(d.Techniques, t)
		}
	}
	for _, ev := range a.Evidence {
		d.Evidence = append(d.Evidence, evidence(ev.UUID, ev.EventType, ev.Raw, ev.OCSF))
	}
	if len(a.Missing) > 0 {
		d.Notes = append(d.Notes, console.Note{At: a.Time, By: "idwatch", Text: fmt.Sprintf("%d evidence events are no longer in the journal (retention): %s",
			len(a.Missing), strings.Join(a.Missing, ", "))})
	}
	for _, h := range a.History {
		d.Notes = append(d.Notes, console.Note{At: h.At, By: h.By, Text: changeText(h)})
	}
	d.Card = s.b.identityCard(ctx, a.IntegrationName, a.Entities)
	return d, nil
}

// technique reads one finding_info.attacks entry; names are shown when the finding has them (the
// rule's tags give ids only).
func technique(raw json.RawMessage) (console.Technique, bool) {
	type named struct {
		Name string `json:"name"`
		UID  string `json:"uid"`
	}
	var a struct {
		Tactic       named   `json:"tactic"`
		Tactics      []named `json:"tactics"`
		Technique    named   `json:"technique"`
		SubTechnique named   `json:"sub_technique"`
	}
	if json.Unmarshal(raw, &a) != nil || a.Technique.UID == "" {
		return console.Technique{}, false
	}
	t := console.Technique{ID: a.Technique.UID, Name: a.Technique.Name}
	if a.SubTechnique.UID != "" {
		t.ID = a.SubTechnique.UID
		if a.SubTechnique.Name != "" {
			t.Name = strings.TrimPrefix(a.Technique.Name+": "+a.SubTechnique.Name, ": ")
		}
	}
	tactics := a.Tactics
	if len(tactics) == 0 && a.Tactic.Name != "" {
		tactics = []named{a.Tactic}
	}
	names := make([]string, 0, len(tactics))
	for _, ta := range tactics {
		names = append(names, ta.Name)
	}
	t.Tactic = strings.Join(names, ", ")
	t.URL = "https://attack.mitre.org/techniques/" + strings.ReplaceAll(t.ID, ".", "/") + "/"
	return t, true
}

// changeText is a history entry as the console lists it.
func changeText(h store.AlertChange) string {
	var parts []string
	if h.From != h.To {
		parts = append(parts, fmt.Sprintf("status %s → %s", h.From, h.To))
	}
	if h.Reason != "" {
		parts = append(parts, "reason: "+h.Reason)
	}
	if !h.Until.IsZero() {
		parts = append(parts, "until "+h.Until.UTC().Format(time.RFC3339))
	}
	if h.Note != "" {
		parts = append(parts, h.Note)
	}
	return strings.Join(parts, "; ")
}

// evidence renders an event for the console: its summary and both JSON forms, indented.
func evidence(uuid, eventType string, raw json.RawMessage, ocsf []json.RawMessage) console.Evidence {
	ev := console.Evidence{UUID: uuid, EventType: eventType, Raw: indent(raw), OCSF: indent(mustJSON(ocsf))}
	if le, err := event.DecodeOwned(raw); err == nil {
		ev.Published = le.Published
		if le.Actor != nil {
			ev.Actor = firstOf(le.Actor.AlternateID, le.Actor.ID)
		}
		if le.Client != nil {
			ev.IP = le.Client.IPAddress
		}
		if le.Outcome != nil {
			ev.Outcome = le.Outcome.Result
		}
	}
	return ev
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func indent(raw []byte) string {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}

// AlertAction implements AlertsEvents: the API's workflow routes, as the signed-in key.
func (s apiAlertsEvents) AlertAction(ctx context.Context, by console.Principal, id string, a console.AlertAction) error {
	p, err := s.b.act(ctx, by)
	if err != nil {
		return err
	}
	route, body := "", server.AlertChangeInput{Note: a.Note}
	switch a.Kind {
	case console.ActionAck:
		route = routeAlert + "/ack"
	case console.ActionResolve:
		route = routeAlert + "/resolve"
	case console.ActionNote:
		route = routeAlert + "/notes"
	case console.ActionSuppress:
		route, body = routeAlert+"/suppress", server.AlertChangeInput{Reason: a.Note, Until: a.Until}
	default:
		return &console.Error{Message: "Unknown action " + strconv.Quote(a.Kind), Fix: "Use the buttons on the alert page."}
	}
	if _, err := s.b.o.Server.Invoke(ctx, p, http.MethodPost, route, map[string]string{"id": id}, body, nil); err != nil {
		return userErr(err)
	}
	return nil
}

// SearchEvents implements AlertsEvents: one page of the search and the histogram of the whole
// match over the searched time range (the last 24 hours when none is given).
func (s apiAlertsEvents) SearchEvents(ctx context.Context, q console.EventQuery) (console.EventResult, error) {
	now := s.b.now()
	if q.Since.IsZero() {
		q.Since = now.Add(-24 * time.Hour)
	}
	if q.Until.IsZero() {
		q.Until = now
	}
	v := url.Values{}
	for k, x := range map[string]string{"integration": q.Integration, "type": q.Type, "actor": q.Actor, "target": q.Target,
		"ip": q.IP, "outcome": q.Outcome, "q": q.Text} {
		if x != "" {
			v.Set(k, x)
		}
	}
	setTime(v, "since", q.Since)
	setTime(v, "until", q.Until)
	hv := url.Values{"buckets": {strconv.Itoa(histogramBucket)}}
	for k, x := range v {
		hv[k] = x
	}
	v.Set("format", "both")
	v.Set("limit", strconv.Itoa(min(max(q.Limit, 1), store.MaxSearchLimit)))
	if q.OldestFirst {
		v.Set("order", "oldest")
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	var page server.EventPage
	if _, err := s.b.o.Server.InvokeQuery(ctx, system, http.MethodGet, routeEvents, nil, v, nil, &page); err != nil {
		return console.EventResult{}, userErr(err)
	}
	var h server.EventHistogramView
	if _, err := s.b.o.Server.InvokeQuery(ctx, system, http.MethodGet, routeHistogram, nil, hv, nil, &h); err != nil {
		return console.EventResult{}, userErr(err)
	}
	res := console.EventResult{NextCursor: page.Next, Total: int(h.Total), TextIgnored: h.TextIgnored}
	width := time.Duration(h.BucketSecond * float64(time.Second))
	for i, c := range h.Counts {
		res.Histogram = append(res.Histogram, console.Point{T: h.Start.Add(time.Duration(i) * width), V: float64(c)})
	}
	for _, e := range page.Events {
		ev := evidence(e.UUID, e.EventType, e.Raw, e.OCSF)
		row := console.EventRow{UUID: e.UUID, Published: e.Published, Integration: e.Integration, Type: e.EventType, Actor: ev.Actor,
			IP: ev.IP, Outcome: ev.Outcome, Flagged: firstOf(e.Error, e.Flagged), Raw: ev.Raw, OCSF: ev.OCSF}
		if le, err := event.DecodeOwned(e.Raw); err == nil {
			var ts []string
			for _, t := range le.Target {
				ts = append(ts, firstOf(t.AlternateID, t.DisplayName, t.ID))
			}
			row.Target = strings.Join(ts, ", ")
		}
		res.Events = append(res.Events, row)
	}
	return res, nil
}
