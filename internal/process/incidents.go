package process

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/incident"
	"github.com/idwatch/idwatch/internal/store"
)

// IncidentConsumer is the alert-stream consumer name under which alerts are grouped into
// incidents.
const IncidentConsumer = "incidents"

// incidentActor names the processor in incident histories.
const incidentActor = "idwatch"

// maxIncidents bounds the stored incidents read to find those a regrouping replaces.
const maxIncidents = 100_000

// alertPage is how many alerts one read of the alert stream takes.
const alertPage = 10_000

// GroupIncidents groups the stored alerts into incidents and saves the incidents that hold an
// alert the incident consumer has not committed yet, then commits. It regroups every retained
// alert, so the incidents depend only on the alerts, not on the order or the batches they were
// stored in, and running it again after a crash saves the same incidents. A new alert joining a
// resolved (or false-positive) incident within ReopenWithin of its previous last alert reopens
// it. It returns how many incidents it saved.
func (p *Processor) GroupIncidents(ctx context.Context) (int, error) {
	st := p.cfg.Store
	off, err := st.Offset(ctx, IncidentConsumer)
	if errors.Is(err, store.ErrNotFound) {
		off, err = st.RegisterConsumer(ctx, IncidentConsumer, store.StreamAlerts, 0)
	}
	if err != nil {
		return 0, fmt.Errorf("incidents: %w", err)
	}
	last, err := st.LastAlertSeq(ctx)
	if err != nil || last <= off {
		return 0, err
	}
	sups, err := st.ListSuppressions(ctx)
	if err != nil {
		return 0, fmt.Errorf("incidents: %w", err)
	}
	var alerts []incident.Alert
	fresh := map[string]bool{}
	times := map[string]time.Time{}
	for after := int64(0); ; {
		page, err := st.ReadAlerts(ctx, after, alertPage)
		if err != nil {
			return 0, fmt.Errorf("incidents: %w", err)
		}
		for _, a := range page {
			if a.Seq > last {
				break
			}
			tactics, techniques, entities := FindingFacts(a.Body)
			ia := incident.Alert{ID: a.ID, Scope: strconv.FormatInt(a.IntegrationID, 10), RuleID: a.RuleID, Severity: a.Severity, Time: a.Time,
				GroupKey: a.GroupKey, Tactics: tactics, Techniques: techniques, Entities: entities}
			if suppressed(sups, ia, a.StoredAt) {
				continue
			}
			alerts = append(alerts, ia)
			times[a.ID] = a.Time
			if a.Seq > off {
				fresh[a.ID] = true
			}
		}
		if len(page) < alertPage || page[len(page)-1].Seq >= last {
			break
		}
		after = page[len(page)-1].Seq
	}
	incs, err := incident.Group(alerts, p.cfg.Incidents)
	if err != nil {
		return 0, err
	}
	// An alert that arrived late and is earlier than an incident's first alert gives the incident
	// a new id: the stored incidents holding its alerts fold into it.
	stored, err := st.ListIncidents(ctx, "", maxIncidents)
	if err != nil {
		return 0, fmt.Errorf("incidents: %w", err)
	}
	holder := map[string]string{}
	for _, in := range stored {
		for _, a := range in.Alerts {
			holder[a] = in.ID
		}
	}
	var save []store.Incident
	merged := map[string][]string{}
	var reopen []store.IncidentUpdate
	var reopenIDs []string
	for _, in := range incs {
		if !slices.ContainsFunc(in.Alerts, func(id string) bool { return fresh[id] }) {
			continue
		}
		detail, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("incidents: encode %s: %w", in.ID, err)
		}
		save = append(save, store.Incident{ID: in.ID, Entity: string(in.Entity), Risk: in.Risk, Severity: in.Severity,
			FirstAlert: in.First, LastAlert: in.Last, Alerts: in.Alerts, Detail: detail})
		folded := slices.Clone(in.Merged)
		for _, a := range in.Alerts {
			if h, ok := holder[a]; ok && h != in.ID && !slices.Contains(folded, h) {
				folded = append(folded, h)
			}
		}
		if len(folded) > 0 {
			slices.Sort(folded)
			merged[in.ID] = folded
		}
		if u, ok, err := p.reopening(ctx, in, fresh, times); err != nil {
			return 0, err
		} else if ok {
			reopen = append(reopen, u)
			reopenIDs = append(reopenIDs, in.ID)
		}
	}
	// Reopen before saving: after a crash in between, the regrouping still sees the new alerts
	// as new to the incident and saves them, while a reopen after the save would be lost.
	for i, u := range reopen {
		if _, err := st.UpdateIncident(ctx, reopenIDs[i], u); err != nil {
			return 0, fmt.Errorf("incidents: reopen %s: %w", reopenIDs[i], err)
		}
	}
	if len(save) > 0 {
		if err := st.SaveIncidents(ctx, incidentActor, save, merged); err != nil {
			return 0, fmt.Errorf("incidents: %w", err)
		}
	}
	if err := st.CommitOffset(ctx, IncidentConsumer, last); err != nil {
		return 0, fmt.Errorf("incidents: %w", err)
	}
	return len(save), nil
}

// reopening decides whether a closed stored incident reopens for the fresh alerts that joined it.
func (p *Processor) reopening(ctx context.Context, in incident.Incident, fresh map[string]bool, times map[string]time.Time) (store.IncidentUpdate, bool, error) {
	old, err := p.cfg.Store.GetIncident(ctx, in.ID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.IncidentUpdate{}, false, nil
		}
		return store.IncidentUpdate{}, false, fmt.Errorf("incidents: %w", err)
	}
	if old.Status != store.IncidentResolved && old.Status != store.IncidentFalsePositive {
		return store.IncidentUpdate{}, false, nil
	}
	within := p.cfg.ReopenWithin
	for _, c := range in.Contributions {
		if !fresh[c.AlertID] || slices.Contains(old.Alerts, c.AlertID) {
			continue
		}
		at := times[c.AlertID]
		if !at.After(old.LastAlert.Add(within)) {
			return store.IncidentUpdate{By: incidentActor, Status: store.IncidentNew,
				Note: fmt.Sprintf("reopened: alert %s (%s) at %s, within %s of the last alert", c.AlertID, c.RuleID,
					at.Format(time.RFC3339), within)}, true, nil
		}
	}
	return store.IncidentUpdate{}, false, nil
}

// FindingFacts reads the ATT&CK tactic ids, the technique ids (the sub-technique's where there
// is one) and the entities of a stored Detection Finding.
func FindingFacts(body []byte) (tactics, techniques []string, entities []incident.Entity) {
	var f struct {
		Info struct {
			Attacks []struct {
				Tactics []struct {
					UID string `json:"uid"`
				} `json:"tactics"`
				Technique struct {
					UID string `json:"uid"`
				} `json:"technique"`
				SubTechnique struct {
					UID string `json:"uid"`
				} `json:"sub_technique"`
			} `json:"attacks"`
		} `json:"finding_info"`
		Unmapped struct {
			Entities []incident.Entity `json:"entities"`
		} `json:"unmapped"`
	}
	if json.Unmarshal(body, &f) != nil {
		return nil, nil, nil // a finding that does not decode still groups by its group key; it adds no stage
	}
	for _, a := range f.Info.Attacks {
		for _, t := range a.Tactics {
			if !slices.Contains(tactics, t.UID) {
				tactics = append(tactics, t.UID)
			}
		}
		if id := cmp.Or(a.SubTechnique.UID, a.Technique.UID); id != "" && !slices.Contains(techniques, id) {
			techniques = append(techniques, id)
		}
	}
	return tactics, techniques, f.Unmapped.Entities
}

// eventEntities names the users (by login and by id) and the client address of the event that
// raised an alert, so alerts whose group key names another field still meet the incident of the
// user they are about.
func eventEntities(ev *event.LogEvent) []string {
	if ev == nil {
		return nil
	}
	var out []string
	add := func(kind, v string) {
		if v = strings.ToLower(strings.TrimSpace(v)); v != "" && !slices.Contains(out, kind+":"+v) {
			out = append(out, kind+":"+v)
		}
	}
	if a := ev.Actor; a != nil && strings.EqualFold(a.Type, "User") {
		add(incident.KindUser, a.AlternateID)
		add(incident.KindUser, a.ID)
	}
	for _, t := range ev.Target {
		if strings.EqualFold(t.Type, "User") {
			add(incident.KindUser, t.AlternateID)
			add(incident.KindUser, t.ID)
		}
	}
	if c := ev.Client; c != nil {
		add(incident.KindIP, c.IPAddress)
	}
	return out
}

// suppressed reports whether an analyst's suppression keeps the alert (stored at storedAt) out of
// incidents: same rule, same org, one of its entities, stored while the suppression was active.
// It depends only on the alert and the suppressions, so regrouping stays deterministic.
func suppressed(sups []store.Suppression, a incident.Alert, storedAt time.Time) bool {
	for _, s := range sups {
		if !s.Covers(a.RuleID, storedAt) || (s.Scope != "" && s.Scope != a.Scope) {
			continue
		}
		if slices.Contains(a.About(), incident.Entity(strings.ToLower(s.Entity))) {
			return true
		}
	}
	return false
}
