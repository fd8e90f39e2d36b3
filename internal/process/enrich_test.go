package process

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/normalize/ocsftest"
	"github.com/idwatch/idwatch/internal/store"
)

// fixedEnricher is an inventory of integration 1 only: alice is a Super Admin linked to AD.
type fixedEnricher map[string]normalize.Identity

func (f fixedEnricher) EnrichUser(key string) (normalize.Identity, bool) {
	id, ok := f[strings.ToLower(key)]
	return id, ok
}

var aliceIdentity = normalize.Identity{UserID: "00ualice", Status: "ACTIVE", IsAdmin: true, Roles: []string{"SUPER_ADMIN"},
	ADSid: "S-1-5-21-1-2-3-1104", ADGuid: "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f", ADDN: "CN=Alice,OU=Admins,DC=corp,DC=example,DC=com",
	Groups: []string{"Admins"}, FactorStrength: "weak"}

// adminRules fire on the enrichment fields, on the raw event and on an OCSF record.
const adminRules = `title: Marker by an admin without a strong factor
id: 5d0c1a3e-7b2f-4e61-9a8d-1c2b3d4e5f60
level: high
logsource:
    product: okta
detection:
    selection:
        eventType: idwatch.test.marker
        actor.isAdmin: true
        actor.factorStrength: weak
        actor.adSid|startswith: 'S-1-5-21-'
    condition: selection
---
title: Marker record by a known AD-linked admin
id: 6e1d2b4f-8c3a-4f72-8b9e-2d3c4e5f6071
level: medium
logsource:
    category: generic
detection:
    selection:
        metadata.event_code: idwatch.test.marker
        actor.superAdmin: true
        actor.user.uid_alt: 'S-1-5-21-1-2-3-1104'
    condition: selection
`

// TestEnrichment: with an inventory, rules read actor.isAdmin … on raw events and on records
// (whose OCSF members carry the AD link), and alerts carry the enriched users; another
// integration (no inventory) raises nothing.
func TestEnrichment(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	for org := int64(1); org <= 2; org++ {
		if _, err := s.AppendPage(t.Context(), org, []store.Event{markerEvent(t, int(org), start, "192.0.2.1")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	inv := fixedEnricher{"alice@example.com": aliceIdentity}
	p, err := New(t.Context(), Config{Store: s, Clock: fixedClock, RulesDir: writeRules(t, map[string]string{"admin.yml": adminRules}),
		Enrichment: EnrichmentFunc(func(id int64) normalize.Enricher {
			if id == 1 {
				return inv
			}
			return nil
		})})
	if err != nil {
		t.Fatal(err)
	}
	drain(t, p)
	v := ocsftest.New(t)
	alerts := allAlerts(t, s)
	byRule := map[string]store.Alert{}
	for _, a := range alerts {
		if a.IntegrationID != 1 {
			t.Errorf("integration %d has no inventory but alerted: %s", a.IntegrationID, a.RuleID)
		}
		byRule[a.RuleID] = a
	}
	for _, id := range []string{"5d0c1a3e-7b2f-4e61-9a8d-1c2b3d4e5f60", "6e1d2b4f-8c3a-4f72-8b9e-2d3c4e5f6071"} {
		a, ok := byRule[id]
		if !ok {
			t.Fatalf("rule %s on the enrichment did not fire; alerts %v", id, alertIDs(t, alerts))
		}
		var f struct {
			Evidences []struct {
				Actor struct {
					User map[string]any `json:"user"`
				} `json:"actor"`
			} `json:"evidences"`
		}
		if err := json.Unmarshal(a.Body, &f); err != nil {
			t.Fatal(err)
		}
		if len(f.Evidences) != 1 || f.Evidences[0].Actor.User["uid_alt"] != aliceIdentity.ADSid {
			t.Errorf("alert %s does not carry the enriched actor: %s", id, a.Body)
		}
		if err := v.Validate(a.Body); err != nil {
			t.Errorf("enriched alert %s is not a valid Detection Finding: %v\n%s", id, err, a.Body)
		}
	}
}
