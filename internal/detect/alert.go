package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/detect/sigma"
)

// Alert is a rule or correlation firing. Its ID is derived from the rule, the group and the
// evidence, so processing the same events again yields the same ID.
type Alert struct {
	ID          string
	RuleID      string // the rule's id (or name, or title when it has neither)
	Title       string
	Description string
	Level       string
	Tags        []string
	// Group holds the correlation's group-by values (or the suppression group-by values of a
	// detection rule).
	Group []KV
	// Time is when the alert's condition was met, in event time; FirstSeen..LastSeen spans
	// the evidence.
	Time      time.Time
	FirstSeen time.Time
	LastSeen  time.Time
	// Events lists evidence event uuids (capped); EventCount is the full number.
	Events     []string
	EventCount int
	Detail     string
	Correlated bool
	// Response is the rule's response field (nil when it has none or its mode is off).
	Response *sigma.Response
}

// SeverityID maps a Sigma level to the OCSF severity_id.
func SeverityID(level string) int {
	switch level {
	case "informational":
		return 1
	case "low":
		return 2
	case "", "medium":
		return 3
	case "high":
		return 4
	case "critical":
		return 5
	}
	return 0
}

var severityNames = map[int]string{1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}

// alertFromMatch builds, suppresses and deduplicates the alert for a match.
func (e *Engine) alertFromMatch(m *match) {
	r := m.rule.rule
	evidence := m.evidence()
	a := Alert{RuleID: r.Key(), Title: r.Title, Description: r.Description, Level: r.Level,
		Tags: r.Tags, Group: m.group, Time: m.at(), FirstSeen: m.t, LastSeen: m.t,
		EventCount: len(evidence), Detail: m.detail, Correlated: r.Correlation != nil}
	if r.Response != nil && r.Response.Mode != "off" {
		a.Response = r.Response
	}
	if !m.first.IsZero() {
		a.FirstSeen = m.first
	}
	a.Events = evidence
	if len(a.Events) > e.cfg.MaxEvidence {
		a.Events = a.Events[:e.cfg.MaxEvidence]
	}
	a.Events = append([]string(nil), a.Events...)
	if m.ev != nil && r.Suppression != nil {
		for i, s := range m.rule.supSlots {
			v := ""
			if s >= 0 {
				for _, l := range m.ev.Values(s) {
					if l.HasS {
						v = l.S
						break
					}
				}
			}
			a.Group = append(a.Group, KV{Key: r.Suppression.GroupBy[i], Value: v})
		}
	}
	anchor := m.anchor
	if anchor == "" {
		anchor = m.firstUUID() + "|" + m.t.Format(time.RFC3339Nano)
	}
	a.ID = alertID(a.RuleID, groupKey(a.Group), anchor)
	if _, dup := e.emitted[a.ID]; dup {
		return
	}
	e.emitted[a.ID] = a.Time
	if sup := r.Suppression; sup != nil {
		k := a.RuleID + "\x00" + groupKey(a.Group)
		if until, ok := e.suppress[k]; ok && a.Time.Before(until) {
			return
		}
		e.suppress[k] = a.Time.Add(sup.Timespan)
	}
	if !e.silent {
		e.out = append(e.out, a)
	}
}

// alertID hashes the rule, group and evidence anchor into a stable identifier.
func alertID(rule, group, anchor string) string {
	h := sha256.New()
	for _, s := range []string{rule, group, anchor} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// tactics maps ATT&CK tactic tags to their ids.
var tactics = map[string]struct{ id, name string }{
	"reconnaissance":       {"TA0043", "Reconnaissance"},
	"resource-development": {"TA0042", "Resource Development"},
	"initial-access":       {"TA0001", "Initial Access"},
	"execution":            {"TA0002", "Execution"},
	"persistence":          {"TA0003", "Persistence"},
	"privilege-escalation": {"TA0004", "Privilege Escalation"},
	"defense-evasion":      {"TA0005", "Defense Evasion"},
	"stealth":              {"TA0005", "Stealth"},
	"credential-access":    {"TA0006", "Credential Access"},
	"discovery":            {"TA0007", "Discovery"},
	"lateral-movement":     {"TA0008", "Lateral Movement"},
	"collection":           {"TA0009", "Collection"},
	"exfiltration":         {"TA0010", "Exfiltration"},
	"command-and-control":  {"TA0011", "Command and Control"},
	"impact":               {"TA0040", "Impact"},
}

var techniqueRe = regexp.MustCompile(`^attack\.(t\d{4})(\.\d{3})?$`)

// attacks turns Sigma attack.* tags into OCSF attack objects: one per technique, each
// carrying the rule's tactics.
func attacks(tags []string) []map[string]any {
	var tacs []map[string]any
	var techs [][2]string
	for _, t := range tags {
		t = strings.ToLower(t)
		if m := techniqueRe.FindStringSubmatch(t); m != nil {
			techs = append(techs, [2]string{strings.ToUpper(m[1]), strings.ToUpper(m[1] + m[2])})
			continue
		}
		if name, ok := strings.CutPrefix(t, "attack."); ok {
			if ta, ok := tactics[strings.ReplaceAll(name, "_", "-")]; ok {
				tacs = append(tacs, map[string]any{"uid": ta.id, "name": ta.name})
			}
		}
	}
	var out []map[string]any
	add := func(a map[string]any) {
		if len(tacs) > 0 {
			a["tactic"] = tacs[0]
			a["tactics"] = tacs
		}
		out = append(out, a)
	}
	for _, t := range techs {
		a := map[string]any{"technique": map[string]any{"uid": t[0]}}
		if t[1] != t[0] {
			a["sub_technique"] = map[string]any{"uid": t[1]}
		}
		add(a)
	}
	if len(techs) == 0 && len(tacs) > 0 {
		add(map[string]any{})
	}
	return out
}

// Finding renders the alert as an OCSF 1.8.0 Detection Finding (class 2004).
func (a Alert) Finding() map[string]any {
	sev := SeverityID(a.Level)
	related := make([]map[string]any, len(a.Events))
	for i, u := range a.Events {
		related[i] = map[string]any{"uid": u}
	}
	analytic := map[string]any{"type_id": 1, "type": "Rule", "uid": a.RuleID, "name": a.Title}
	info := map[string]any{
		"uid": a.ID, "title": a.Title, "analytic": analytic,
		"related_events": related, "related_events_count": a.EventCount,
		"first_seen_time": a.FirstSeen.UnixMilli(), "last_seen_time": a.LastSeen.UnixMilli(),
		"created_time": a.Time.UnixMilli(),
	}
	if a.Description != "" {
		info["desc"] = a.Description
	}
	if at := attacks(a.Tags); len(at) > 0 {
		info["attacks"] = at
	}
	if a.Correlated {
		info["types"] = []string{"Correlation"}
	}
	msg := a.Title
	if a.Detail != "" {
		msg += ": " + a.Detail
	}
	f := map[string]any{
		"class_uid": 2004, "class_name": "Detection Finding",
		"category_uid": 2, "category_name": "Findings",
		"activity_id": 1, "activity_name": "Create",
		"type_uid": 200401, "type_name": "Detection Finding: Create",
		"time": a.Time.UnixMilli(), "start_time": a.FirstSeen.UnixMilli(), "end_time": a.LastSeen.UnixMilli(),
		"severity_id": sev, "severity": severityNames[sev],
		"status_id": 1, "status": "New", "is_alert": true,
		"message": msg,
		"metadata": map[string]any{
			"version": "1.8.0", "uid": a.ID,
			"product": map[string]any{"name": "idwatch", "vendor_name": "idwatch"},
		},
		"finding_info": info,
	}
	unmapped := map[string]any{"rule_level": a.Level}
	if len(a.Group) > 0 {
		unmapped["group_by"] = a.Group
	}
	if a.Detail != "" {
		unmapped["detail"] = a.Detail
	}
	if a.Response != nil {
		unmapped["response"] = a.Response
	}
	f["unmapped"] = unmapped
	return f
}
