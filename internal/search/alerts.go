package search

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/store"
)

// MaxEvidence bounds the evidence events one alert detail carries.
const MaxEvidence = 200

// AlertDetail is one alert as an analyst triages it.
type AlertDetail struct {
	store.TriagedAlert
	// History lists every status change and note, oldest first.
	History []store.AlertChange `json:"history"`
	// Attacks are the MITRE ATT&CK techniques and tactics of the rule (the finding's
	// finding_info.attacks).
	Attacks []json.RawMessage `json:"attacks"`
	// Evidence are the events the finding names, raw and as OCSF, in the finding's order;
	// Missing lists the uuids the journal no longer holds (retention).
	Evidence []Evidence `json:"evidence"`
	Missing  []string   `json:"missing,omitempty"`
	// EvidenceTotal is how many events the finding names (Evidence holds at most MaxEvidence).
	EvidenceTotal int `json:"evidenceTotal"`
}

// Evidence is one evidence event of an alert.
type Evidence struct {
	Seq       int64             `json:"seq"`
	UUID      string            `json:"uuid"`
	EventType string            `json:"eventType"`
	Raw       json.RawMessage   `json:"raw"`
	OCSF      []json.RawMessage `json:"ocsf"`
	// Error says why the event has no OCSF records.
	Error string `json:"error,omitempty"`
}

// AlertDetail returns an alert with its history, ATT&CK and up to evidence of its evidence events
// (at most MaxEvidence; ErrNotFound when unknown).
func (s *Service) AlertDetail(ctx context.Context, id string, evidence int) (AlertDetail, error) {
	a, hist, err := s.st.GetAlert(ctx, id)
	if err != nil {
		return AlertDetail{}, err
	}
	d := AlertDetail{TriagedAlert: a, History: hist, Attacks: []json.RawMessage{}, Evidence: []Evidence{}}
	var f struct {
		Info struct {
			Attacks []json.RawMessage `json:"attacks"`
			Related []struct {
				UID string `json:"uid"`
			} `json:"related_events"`
		} `json:"finding_info"`
	}
	if json.Unmarshal(a.Body, &f) != nil {
		return d, nil // a body that is not a finding has no evidence to read
	}
	if f.Info.Attacks != nil {
		d.Attacks = f.Info.Attacks
	}
	var uuids []string
	for _, r := range f.Info.Related {
		if r.UID != "" && !slices.Contains(uuids, r.UID) {
			uuids = append(uuids, r.UID)
		}
	}
	d.EvidenceTotal = len(uuids)
	uuids = uuids[:min(len(uuids), max(evidence, 0), MaxEvidence)]
	entries, err := s.st.JournalByUUID(ctx, a.IntegrationID, uuids)
	if err != nil {
		return d, err
	}
	byUUID := make(map[string]store.Entry, len(entries))
	for _, e := range entries {
		byUUID[e.UUID] = e
	}
	n := normalize.New()
	for _, u := range uuids {
		e, ok := byUUID[u]
		if !ok {
			d.Missing = append(d.Missing, u)
			continue
		}
		ev := Evidence{Seq: e.Seq, UUID: e.UUID, EventType: e.EventType, Raw: RawJSON(e.Raw), OCSF: []json.RawMessage{}}
		if recs, err := OCSF(e, n); err != nil {
			ev.Error = err.Error()
		} else if recs != nil {
			ev.OCSF = recs
		}
		d.Evidence = append(d.Evidence, ev)
	}
	return d, nil
}

// RawJSON is a journal entry's raw JSON, or, when it is not valid JSON, the bytes as a JSON
// string, so that one damaged entry cannot break a response.
func RawJSON(raw []byte) json.RawMessage {
	if json.Valid(raw) {
		return raw
	}
	b, _ := json.Marshal(string(raw))
	return b
}
