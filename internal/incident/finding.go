package incident

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Activities of an incident's stream record: what happened to the incident.
const (
	ActivityCreate = "create"
	ActivityUpdate = "update"
	ActivityClose  = "close"
)

// Snapshot is an incident's state at one change, as the incident stream carries it: the
// grouping (Detail, an encoded Incident) and the workflow.
type Snapshot struct {
	ID         string          `json:"id"`
	Status     string          `json:"status"`
	Assignee   string          `json:"assignee,omitempty"`
	Risk       int             `json:"risk"`
	Severity   string          `json:"severity"`
	FirstAlert time.Time       `json:"firstAlert"`
	LastAlert  time.Time       `json:"lastAlert"`
	Alerts     []string        `json:"alerts"`
	Detail     json.RawMessage `json:"detail,omitempty"`
	CreatedAt  time.Time       `json:"createdAt"`
	UpdatedAt  time.Time       `json:"updatedAt"`
	// MergedInto names the incident this one was folded into (then Activity is close).
	MergedInto string `json:"mergedInto,omitempty"`
	// LastChange is the newest history entry: what this record reports.
	LastChange string `json:"lastChange,omitempty"`
}

// severityIDs are OCSF severity ids by Sigma level (and incident severity).
var severityIDs = map[string]int{"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

var severityNames = map[int]string{0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}

// statusIDs are the OCSF Incident Finding statuses of idwatch's workflow states; a false positive
// is Closed with the False Positive verdict.
var statusIDs = map[string]int{"new": 1, "in_progress": 2, "resolved": 4, "false_positive": 5}

var statusNames = map[int]string{0: "Unknown", 1: "New", 2: "In Progress", 4: "Resolved", 5: "Closed"}

var activityIDs = map[string]int{ActivityCreate: 1, ActivityUpdate: 2, ActivityClose: 3}

var activityNames = map[int]string{1: "Create", 2: "Update", 3: "Close"}

// Finding renders one change of an incident as an OCSF 1.8.0 Incident Finding (class 2005). seq
// is the record's position in the incident stream, so each change has its own record uid while
// metadata.correlation_uid ties every record of one incident together.
func Finding(s Snapshot, activity string, seq int64) (map[string]any, error) {
	act, ok := activityIDs[activity]
	if !ok {
		return nil, fmt.Errorf("incident finding: unknown activity %q", activity)
	}
	var g Incident
	if len(s.Detail) > 0 {
		if err := json.Unmarshal(s.Detail, &g); err != nil {
			return nil, fmt.Errorf("incident %s: stored grouping: %w", s.ID, err)
		}
	}
	sev := severityIDs[strings.ToLower(s.Severity)]
	status := statusIDs[s.Status]
	rules := map[string]string{}
	for _, c := range g.Contributions {
		rules[c.AlertID] = c.RuleID
	}
	infos := make([]map[string]any, 0, len(s.Alerts))
	for _, id := range s.Alerts {
		info := map[string]any{"uid": id}
		if r := rules[id]; r != "" {
			info["analytic"] = map[string]any{"type_id": 1, "type": "Rule", "uid": r}
		}
		infos = append(infos, info)
	}
	entity := string(g.Entity)
	desc := fmt.Sprintf("%d alerts about %s", len(s.Alerts), entity)
	if g.Stage != "" {
		desc += ", furthest stage reached: " + g.Stage
	}
	f := map[string]any{
		"class_uid": 2005, "class_name": "Incident Finding",
		"category_uid": 2, "category_name": "Findings",
		"activity_id": act, "activity_name": activityNames[act],
		"type_uid": 200500 + act, "type_name": "Incident Finding: " + activityNames[act],
		"time":       s.UpdatedAt.UnixMilli(),
		"start_time": s.FirstAlert.UnixMilli(), "end_time": s.LastAlert.UnixMilli(),
		"severity_id": sev, "severity": severityNames[sev],
		"priority_id": sev - 1, "priority": []string{"Unknown", "Low", "Medium", "High", "Critical"}[max(sev-1, 0)],
		"status_id": status, "status": statusNames[status],
		"risk_score": s.Risk, "risk_level_id": max(sev-1, 0), "risk_level": []string{"Info", "Low", "Medium", "High", "Critical"}[max(sev-1, 0)],
		"desc":              desc,
		"message":           fmt.Sprintf("Incident %s (%s, risk %d): %s", s.ID, s.Status, s.Risk, desc),
		"finding_info_list": infos,
		"metadata": map[string]any{
			"version": "1.8.0", "uid": fmt.Sprintf("%s-%d", s.ID, seq), "correlation_uid": s.ID,
			"sequence":      seq,
			"modified_time": s.UpdatedAt.UnixMilli(),
			"product":       map[string]any{"name": "idwatch", "vendor_name": "idwatch"},
		},
	}
	if s.Status == "false_positive" {
		f["verdict_id"], f["verdict"] = 1, "False Positive"
	}
	if s.Assignee != "" {
		f["assignee"] = map[string]any{"name": s.Assignee}
	}
	unmapped := map[string]any{"incident_id": s.ID, "entity": entity, "workflow_status": s.Status}
	if len(g.Entities) > 0 {
		unmapped["entities"] = g.Entities
	}
	if g.Stage != "" {
		unmapped["stage"] = g.Stage
	}
	if len(g.Contributions) > 0 {
		unmapped["contributions"] = g.Contributions
	}
	if len(g.Merged) > 0 {
		unmapped["merged"] = g.Merged
	}
	if s.MergedInto != "" {
		unmapped["merged_into"] = s.MergedInto
	}
	if s.LastChange != "" {
		unmapped["change"] = s.LastChange
	}
	f["unmapped"] = unmapped
	return f, nil
}
