package process

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/incident"
	"github.com/idwatch/idwatch/internal/store"
)

// An alert names at most this many users (each counted once by login and once by Okta id, so
// about half as many people) and source addresses from its evidence events: enough for a spray
// from many sources against a few users to meet in one incident, and bounded so that one run
// across a whole org does not file every user it touched into one incident.
const (
	maxEvidenceUsers = 100
	maxEvidenceIPs   = 50
)

// addEvidenceEntities adds to each alert's unmapped.entities the users and source addresses of
// its evidence events (read from the journal, in the order the finding lists them), so that a
// correlation's alert is about every user and address behind it, not only the event that raised
// it. An evidence event no longer in the journal, or one that does not decode, adds nothing.
func (p *Processor) addEvidenceEntities(ctx context.Context, alerts []store.Alert) error {
	for i := range alerts {
		a := &alerts[i]
		uids, have, ok := findingEvidence(a.Body)
		if !ok || len(uids) == 0 {
			continue
		}
		entries, err := p.cfg.Store.JournalByUUID(ctx, a.IntegrationID, uids)
		if err != nil {
			return fmt.Errorf("evidence of alert %s: %w", a.ID, err)
		}
		byUUID := make(map[string]*store.Entry, len(entries))
		for j := range entries {
			byUUID[entries[j].UUID] = &entries[j]
		}
		ents := mergeEvidenceEntities(have, uids, func(uuid string) []string {
			e := byUUID[uuid]
			if e == nil {
				return nil
			}
			ev, err := event.DecodeOwned(e.Raw)
			if err != nil {
				return nil
			}
			return eventEntities(ev)
		})
		if len(ents) == len(have) {
			continue
		}
		body, err := withEntities(a.Body, ents)
		if err != nil {
			return fmt.Errorf("evidence of alert %s: %w", a.ID, err)
		}
		a.Body = body
	}
	return nil
}

// mergeEvidenceEntities appends to have the entities of each evidence event in turn, up to
// maxEvidenceUsers users and maxEvidenceIPs addresses (other kinds pass unbounded).
func mergeEvidenceEntities(have, uids []string, entitiesOf func(string) []string) []string {
	out := slices.Clone(have)
	count := map[string]int{}
	for _, e := range out {
		count[incident.Entity(e).Kind()]++
	}
	for _, u := range uids {
		for _, e := range entitiesOf(u) {
			k := incident.Entity(e).Kind()
			if (k == incident.KindUser && count[k] >= maxEvidenceUsers) || (k == incident.KindIP && count[k] >= maxEvidenceIPs) ||
				slices.Contains(out, e) {
				continue
			}
			out = append(out, e)
			count[k]++
		}
	}
	return out
}

// findingEvidence reads the evidence uuids and the entities of a stored Detection Finding.
func findingEvidence(body []byte) (uids, entities []string, ok bool) {
	var f struct {
		Info struct {
			Related []struct {
				UID string `json:"uid"`
			} `json:"related_events"`
		} `json:"finding_info"`
		Unmapped struct {
			Entities []string `json:"entities"`
		} `json:"unmapped"`
	}
	if json.Unmarshal(body, &f) != nil {
		return nil, nil, false
	}
	for _, r := range f.Info.Related {
		if r.UID != "" && !slices.Contains(uids, r.UID) {
			uids = append(uids, r.UID)
		}
	}
	return uids, f.Unmapped.Entities, true
}

// withEntities rewrites a finding's unmapped.entities, keeping every other field as it was.
func withEntities(body []byte, ents []string) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var f map[string]any
	if err := d.Decode(&f); err != nil {
		return nil, err
	}
	um, _ := f["unmapped"].(map[string]any)
	if um == nil {
		um = map[string]any{}
		f["unmapped"] = um
	}
	um["entities"] = ents
	return json.Marshal(f)
}
