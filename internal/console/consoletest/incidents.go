package consoletest

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/console"
)

// seedIncidents groups the seeded alerts as the processor would: one incident per identity.
func (b *Backend) seedIncidents() {
	now := b.Now()
	byEntity := map[string]*console.IncidentDetail{}
	var order []string
	for _, a := range b.alerts {
		ent := "user:" + a.Identity
		if strings.Contains(a.Identity, " ") {
			ent = "ip:203.0.113.50"
		}
		d, ok := byEntity[ent]
		if !ok {
			d = &console.IncidentDetail{IncidentRow: console.IncidentRow{ID: "inc-" + a.ID, Entity: ent, Status: "new", First: a.Time, Last: a.Time},
				Entities: []string{ent}, History: []console.Note{{At: a.Time, By: "idwatch", Text: "opened by " + a.RuleID}}}
			byEntity[ent] = d
			order = append(order, ent)
		}
		pts, stage := 10, ""
		if len(a.Techniques) > 0 && a.Techniques[0].Tactic != "" && !slices.Contains(d.Stages, a.Techniques[0].Tactic) {
			stage = a.Techniques[0].Tactic
			d.Stages = append(d.Stages, stage)
			d.Stage = stage
			pts += 15
		}
		ev := a.Evidence[:min(len(a.Evidence), 3)]
		d.Timeline = append(d.Timeline, console.TimelineEntry{AlertID: a.ID, Time: a.Time, Severity: a.Severity, Title: a.Title, RuleID: a.RuleID,
			Status: a.Status, Points: pts, Rule: 10, Stage: pts - 10, Reached: stage, Techniques: []string{a.Technique}, Evidence: ev, EvidenceTotal: len(a.Evidence)})
		d.Risk += pts
		d.Alerts++
		d.Rules = append(d.Rules, a.RuleID)
		d.First, d.Last = minTime(d.First, a.Time), maxTime(d.Last, a.Time)
		d.Severity = severityOf(d.Risk)
	}
	for _, ent := range order {
		d := byEntity[ent]
		slices.SortFunc(d.Timeline, func(x, y console.TimelineEntry) int { return x.Time.Compare(y.Time) })
		b.incidents = append(b.incidents, *d)
	}
	if len(b.incidents) > 0 {
		b.incidents[0].Status, b.incidents[0].Assignee = "in_progress", "ann"
		b.incidents[0].History = append(b.incidents[0].History, console.Note{At: now.Add(-time.Hour), By: "ann", Text: "status new → in progress; assigned to ann"})
	}
}

func severityOf(risk int) string {
	switch {
	case risk >= 60:
		return "critical"
	case risk >= 40:
		return "high"
	case risk >= 20:
		return "medium"
	}
	return "low"
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Incidents implements console.Backend.
func (b *Backend) Incidents(ctx context.Context, q console.IncidentQuery) ([]console.IncidentRow, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []console.IncidentRow
	for _, d := range b.incidents {
		if q.Status != "" && d.Status != q.Status || q.Assignee != "" && !strings.EqualFold(d.Assignee, q.Assignee) {
			continue
		}
		out = append(out, d.IncidentRow)
	}
	slices.SortStableFunc(out, func(x, y console.IncidentRow) int { return y.Risk - x.Risk })
	return out, nil
}

// Incident implements console.Backend.
func (b *Backend) Incident(ctx context.Context, id string) (console.IncidentDetail, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range b.incidents {
		if d.ID == id {
			return d, nil
		}
	}
	return console.IncidentDetail{}, console.ErrNotFound
}

// UpdateIncident implements console.Backend.
func (b *Backend) UpdateIncident(ctx context.Context, by console.Principal, id string, ch console.IncidentChange) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.incidents {
		d := &b.incidents[i]
		if d.ID != id {
			continue
		}
		var parts []string
		if ch.Status != "" && ch.Status != d.Status {
			parts = append(parts, "status "+d.Status+" → "+ch.Status)
			d.Status = ch.Status
		}
		if ch.Assignee != nil && *ch.Assignee != d.Assignee {
			parts = append(parts, "assigned to "+*ch.Assignee)
			d.Assignee = *ch.Assignee
		}
		if ch.Note != "" {
			parts = append(parts, ch.Note)
		}
		if len(parts) == 0 {
			return &console.Error{Message: "Nothing to change", Fix: "Change the status or the assignee, or write a note."}
		}
		d.History = append(d.History, console.Note{At: b.Now(), By: by.Name, Text: strings.Join(parts, "; ")})
		b.record(by, "incident %s %s", id, strings.Join(parts, "; "))
		return nil
	}
	return console.ErrNotFound
}

// SuppressPattern implements console.Backend.
func (b *Backend) SuppressPattern(ctx context.Context, by console.Principal, incidentID string, s console.PatternSuppression) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.incidents {
		d := &b.incidents[i]
		if d.ID != incidentID {
			continue
		}
		if !slices.Contains(d.Rules, s.RuleID) {
			return &console.Error{Message: "Rule " + s.RuleID + " raised no alert in this incident", Field: "sup-rule", Fix: "Pick one of the incident's rules."}
		}
		d.History = append(d.History, console.Note{At: b.Now(), By: by.Name, Text: "suppressed " + s.RuleID + " alerts about " + s.Entity + ": " + s.Reason})
		b.record(by, "suppress %s %s", s.RuleID, s.Entity)
		return nil
	}
	return console.ErrNotFound
}
